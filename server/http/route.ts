/** A route: answers the request and returns true when it owns the path, else returns false untouched. */
import type { IncomingMessage, ServerResponse } from "node:http";

export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;
