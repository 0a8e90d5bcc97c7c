import type { z } from 'zod';

/** A WeCom error answer: HTTP 200 with `{ errcode, errmsg }` (docs/wecom.md §0). */
export class ApiFault extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
    this.name = 'ApiFault';
  }
}

/** Validates a request body at the edge; WeCom answers 40058 for bad parameters. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiFault(40058, `invalid parameter: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'body'}`);
  }
  return parsed.data;
}
