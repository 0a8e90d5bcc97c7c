import { computed, ref } from 'vue';
import { useSession } from '../../lib/session.js';

/**
 * The corp an engagement page works in: a dealer principal's own corp; a corp-wide principal
 * (admin, car maker) types or picks one.
 */
export function useCorpChoice() {
  const session = useSession();
  const me = session.me;
  const fixed = me && me.corps !== '*' ? (me.corpId ?? me.corps[0]) : undefined;
  const typed = ref(me?.corpId ?? '');
  const corpId = computed(() => fixed ?? typed.value.trim());
  return { corpId, typed, corpWide: fixed === undefined };
}
