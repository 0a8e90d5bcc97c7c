import { ElMessage } from 'element-plus';
import type { Ref } from 'vue';

/**
 * Runs a one-tap action with its button's busy flag set; a failure is shown as an error notice
 * (the API's message) instead of escaping the click handler.
 */
export async function withBusy(busy: Ref<boolean>, run: () => Promise<void>): Promise<void> {
  busy.value = true;
  try {
    await run();
  } catch (err) {
    ElMessage.error((err as Error).message);
  } finally {
    busy.value = false;
  }
}
