/**
 * The WeCom JS-SDK calls the sidebar makes (docs/wecom.md §10.4), behind one small interface:
 * inside the WeCom client it is `@wecom/jssdk` (loaded lazily), outside it the sandbox's
 * development stand-in (served by the web process only outside production).
 */
export interface JsapiConfig {
  corpId: string;
  agentId: number;
  config: { timestamp: number; nonceStr: string; signature: string };
  agentConfig: { timestamp: number; nonceStr: string; signature: string };
}

export type ChatMessage =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'news'; news: { link: string; title: string; desc?: string; imgUrl?: string } }
  | { msgtype: 'miniprogram'; miniprogram: { appid: string; title: string; imgUrl: string; page: string } }
  | { msgtype: 'image'; image: { mediaid: string } };

export interface ChatBridge {
  /** `standin` outside WeCom (development), `wecom` inside the client. */
  readonly kind: 'wecom' | 'standin';
  register(cfg: JsapiConfig, sign: (url: string) => Promise<JsapiConfig>): Promise<void>;
  getContext(): Promise<{ entry: string }>;
  getCurExternalContact(): Promise<{ userId: string }>;
  getCurExternalChat(): Promise<{ chatId: string }>;
  sendChatMessage(msg: ChatMessage): Promise<void>;
  /** Opens the chat with a customer (`openEnterpriseChat`), else their profile. */
  openChat(externalUserId: string): Promise<void>;
}

export const JS_API_LIST = [
  'getContext',
  'getCurExternalContact',
  'getCurExternalChat',
  'sendChatMessage',
  'openEnterpriseChat',
  'openUserProfile',
];

/** Inside the WeCom client's webview (its user agent says `wxwork`). */
export function inWecomClient(): boolean {
  return /wxwork/i.test(navigator.userAgent);
}

async function wecomBridge(): Promise<ChatBridge> {
  const ww = await import('@wecom/jssdk');
  return {
    kind: 'wecom',
    register: (cfg, sign) =>
      new Promise<void>((resolve, reject) => {
        ww.register({
          corpId: cfg.corpId,
          agentId: cfg.agentId,
          jsApiList: JS_API_LIST,
          getConfigSignature: async (url: string) => (await sign(url)).config,
          getAgentConfigSignature: async (url: string) => (await sign(url)).agentConfig,
          onAgentConfigSuccess: () => resolve(),
          onAgentConfigFail: (err: unknown) => reject(new Error(`agentConfig failed: ${JSON.stringify(err)}`)),
        });
      }),
    getContext: async () => ({ entry: (await ww.getContext()).entry as string }),
    getCurExternalContact: async () => ({ userId: (await ww.getCurExternalContact()).userId }),
    getCurExternalChat: async () => ({ chatId: (await ww.getCurExternalChat()).chatId }),
    sendChatMessage: async (msg) => {
      await ww.sendChatMessage(msg as unknown as Parameters<typeof ww.sendChatMessage>[0]);
    },
    openChat: async (externalUserId) => {
      try {
        await ww.openEnterpriseChat({ externalUserIds: [externalUserId], groupName: '' });
      } catch {
        await ww.openUserProfile({ type: 2, userid: externalUserId } as unknown as Parameters<
          typeof ww.openUserProfile
        >[0]);
      }
    },
  };
}

/** The bridge for this page: WeCom's SDK inside the client, the stand-in elsewhere (or undefined in production). */
export async function loadBridge(): Promise<ChatBridge | undefined> {
  if (inWecomClient()) return wecomBridge();
  try {
    const url = '/console/dev/jssdk-standin.js';
    const mod = (await import(/* @vite-ignore */ url)) as { createStandin: () => ChatBridge };
    return mod.createStandin();
  } catch {
    return undefined;
  }
}
