/** Inputs and outputs of the `user.*` procedures; field rules are shared with `auth.*`. */
import * as z from "zod";
import { Name, UserOutput } from "../auth/schema.ts";

export { UserOutput };

export const UpdateProfileInput = z.object({ name: Name });
