import type { ApiRoutes } from '../server/context.js';
import { contactWayRoutes } from './contact-way.js';
import { directoryRoutes } from './directory.js';
import { jsapiRoutes } from './jsapi.js';
import { externalContactRoutes } from './external-contact.js';
import { groupRoutes } from './groups.js';
import { messageRoutes } from './messages.js';
import { momentMediaRoutes } from './moment-media.js';
import { momentRoutes } from './moments.js';
import { tagRoutes } from './tags.js';
import { transferRoutes } from './transfer.js';
import { welcomeMassRoutes } from './welcome-mass.js';

/** Every WeCom endpoint the sandbox implements, keyed by the path below `/cgi-bin/`. */
export const apiRoutes: ApiRoutes = {
  ...externalContactRoutes,
  ...tagRoutes,
  ...welcomeMassRoutes,
  ...messageRoutes,
  ...directoryRoutes,
  ...transferRoutes,
  ...jsapiRoutes,
  ...groupRoutes,
  ...momentRoutes,
  ...momentMediaRoutes,
  ...contactWayRoutes,
};
