import { acquisitionInboundModule } from '../acquisition/acquisition-inbound.module.js';
import { customerInboundModule } from '../customers/customer-inbound.module.js';
import { groupInboundModule } from '../groups/group-inbound.module.js';
import { taskInboundModule } from '../tasks/task-inbound.module.js';
import { HandlerRegistry, recordOnlyHandler, type HandlerModule } from './handler-registry.js';

export type { HandlerModule };

/** Every feature's inbound handlers, in registration order. */
export const inboundHandlerModules: readonly HandlerModule[] = [
  customerInboundModule,
  taskInboundModule,
  groupInboundModule,
  acquisitionInboundModule,
];

/** The registry the worker uses: `*` records; feature modules register on top. */
export function createHandlerRegistry(modules: readonly HandlerModule[] = inboundHandlerModules): HandlerRegistry {
  const registry = new HandlerRegistry().register('*', recordOnlyHandler);
  for (const register of modules) register(registry);
  return registry;
}
