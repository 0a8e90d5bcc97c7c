import { acquisitionInboundModule } from '../acquisition/acquisition-inbound.module.js';
import { customerInboundModule } from '../customers/customer-inbound.module.js';
import { taskInboundModule } from '../tasks/task-inbound.module.js';
import { HandlerRegistry, recordOnlyHandler } from './handler-registry.js';

/** A feature's registration function: `(registry) => registry.register('change_external_contact.add_external_contact', …)`. */
export type HandlerModule = (registry: HandlerRegistry) => void;

/** Every feature's inbound handlers, in registration order. */
export const inboundHandlerModules: readonly HandlerModule[] = [customerInboundModule, taskInboundModule, acquisitionInboundModule];

/** The registry the worker uses: `*` records; feature modules register on top. */
export function createHandlerRegistry(modules: readonly HandlerModule[] = inboundHandlerModules): HandlerRegistry {
  const registry = new HandlerRegistry().register('*', recordOnlyHandler);
  for (const register of modules) register(registry);
  return registry;
}
