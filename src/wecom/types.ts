/** Request and response types of every endpoint the client calls (grouped in endpoints/). */
export type * from './endpoints/external-contact.js';
export type * from './endpoints/tags.js';
export type * from './endpoints/mass-send.js';
export type * from './endpoints/messages.js';
export type * from './endpoints/directory.js';
export type * from './endpoints/transfer.js';
export type { WecomBaseResponse } from './http.js';
