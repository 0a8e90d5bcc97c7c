import { computed, ref } from 'vue';
import { api } from '../../lib/api.js';
import type { SignInCorp } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';

/**
 * The dealer corp an acquisition page works on: a one-corp person's corp, else (admins and the
 * car maker's staff, corps `*`) the dealer they pick. Channels and leads are per corp in the API.
 */
export function useCorpChoice() {
  const session = useSession();
  const corps = ref<SignInCorp[]>([]);
  const picked = ref('');
  const corpWide = computed(() => session.me?.corps === '*' || (session.me?.corps.length ?? 0) > 1);
  const corpId = computed(() => {
    if (picked.value) return picked.value;
    const mine = session.me?.corps;
    return mine && mine !== '*' && mine.length === 1 ? (mine[0] ?? '') : '';
  });
  async function loadCorps(): Promise<void> {
    if (!corpWide.value) return;
    const dealers = (await api.signInCorps()).corps.filter((c) => c.kind === 'dealer');
    const mine = session.me?.corps;
    corps.value = mine === '*' || !mine ? dealers : dealers.filter((c) => mine.includes(c.corpId));
    if (!picked.value && corps.value.length === 1) picked.value = corps.value[0]?.corpId ?? '';
  }
  return { corps, picked, corpWide, corpId, loadCorps };
}
