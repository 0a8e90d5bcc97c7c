/* global document, location, fetch, URL, URLSearchParams */
// The JS-SDK stand-in for development (docs/wecom-sandbox.md, "JS-SDK stand-in"): the same calls
// the sidebar makes through @wecom/jssdk, answered by the WeCom sandbox through the web process's
// /console/dev/jssdk/* routes (never served in production). A bar at the top lets a developer
// pick the open chat; `?sandboxChat=<external_userid>` (or `group` / `normal`) picks it from the URL.

async function call(method, op, body) {
  const res = await fetch(`/console/dev/jssdk/${op}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || `stand-in: HTTP ${res.status}`);
  if (typeof data.errcode === 'number' && data.errcode !== 0) throw new Error(data.errMsg || `errcode ${data.errcode}`);
  return data;
}

function pickFromUrl() {
  const chat = new URLSearchParams(location.search).get('sandboxChat');
  if (!chat) return undefined;
  if (chat === 'group') return { entry: 'group_chat_tools', chatId: 'wrSandboxGroup001' };
  if (chat === 'normal') return { entry: 'normal' };
  return { entry: 'single_chat_tools', externalUserId: chat };
}

async function showPicker() {
  const { open, customers } = await call('GET', 'chats');
  const bar = document.createElement('div');
  bar.setAttribute('data-test', 'standin-bar');
  bar.style.cssText = 'background:#fff7e6;border-bottom:1px solid #f0c36d;padding:6px 8px;font:13px sans-serif';
  const label = document.createElement('span');
  label.textContent = '沙箱聊天：';
  const select = document.createElement('select');
  select.setAttribute('aria-label', '沙箱聊天');
  const add = (value, text) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  };
  add('normal', '（不在聊天中）');
  add('group', '客户群聊');
  for (const c of customers) add(c.externalUserId, `与 ${c.remark || c.name} 的聊天`);
  select.value =
    open.entry === 'single_chat_tools' ? open.externalUserId : open.entry === 'group_chat_tools' ? 'group' : 'normal';
  select.addEventListener('change', async () => {
    const v = select.value;
    const chat =
      v === 'normal'
        ? { entry: 'normal' }
        : v === 'group'
          ? { entry: 'group_chat_tools', chatId: 'wrSandboxGroup001' }
          : { entry: 'single_chat_tools', externalUserId: v };
    await call('POST', 'select', chat);
    const url = new URL(location.href);
    url.searchParams.delete('sandboxChat');
    location.assign(url.toString());
  });
  bar.append(label, select);
  document.body.prepend(bar);
}

export function createStandin() {
  return {
    kind: 'standin',
    async register(cfg) {
      await call('POST', 'register', {
        agentId: cfg.agentId,
        url: location.href.split('#')[0],
        config: cfg.config,
        agentConfig: cfg.agentConfig,
      });
      const picked = pickFromUrl();
      if (picked) await call('POST', 'select', picked);
      await showPicker();
    },
    async getContext() {
      return { entry: (await call('GET', 'context')).entry };
    },
    async getCurExternalContact() {
      const ctx = await call('GET', 'context');
      if (!ctx.externalUserId) throw new Error('getCurExternalContact:fail without context of external contact');
      return { userId: ctx.externalUserId };
    },
    async getCurExternalChat() {
      const ctx = await call('GET', 'context');
      if (!ctx.chatId) throw new Error('getCurExternalChat:fail without context of external chat');
      return { chatId: ctx.chatId };
    },
    async sendChatMessage(message) {
      await call('POST', 'send', { message });
    },
    async openChat(externalUserId) {
      await call('POST', 'select', { entry: 'single_chat_tools', externalUserId });
      location.assign(`/console/sidebar?sandboxChat=${encodeURIComponent(externalUserId)}`);
    },
  };
}
