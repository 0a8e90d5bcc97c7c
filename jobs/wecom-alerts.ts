import type { Alerter } from '../src/infra/alerts.js';

/** WeCom errors an operator must fix (docs/wecom.md §4): permission, revoked for inactivity, untrusted IP. */
const OPERATOR_CODES: Readonly<Record<number, string>> = {
  48002: 'API not permitted for this app (add it to 可调用接口的应用, check the secret type)',
  48006: 'permission revoked for long inactivity; an admin must re-enable the app',
  60020: "untrusted source IP; add this server's IP to the app's 企业可信IP",
};

/**
 * Raises an alert when a failed job's error (or its cause) is a WeCom 48002/48006/60020.
 * Duck-typed on `errcode` so wrapped errors (UnrecoverableError with a cause) count too.
 */
export function noteWecomAlert(alerts: Alerter, err: unknown): void {
  for (
    let e: unknown = err, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { errcode, corpId } = e as { errcode?: unknown; corpId?: unknown };
    if (typeof errcode === 'number' && OPERATOR_CODES[errcode]) {
      const corp = typeof corpId === 'string' ? corpId : 'unknown-corp';
      alerts.raise(
        'wecom_config',
        `${corp}-${errcode}`,
        `WeCom ${errcode} for corp ${corp}: ${OPERATOR_CODES[errcode]}`,
        { errcode, corpId: corp },
      );
      return;
    }
  }
}
