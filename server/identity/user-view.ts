/**
 * The one shape in which a user leaves the server. Every query that returns a
 * user selects exactly these columns, so a password hash cannot leak by
 * accident (tRPC starter's `defaultPostSelect`).
 */
export const publicUserSelect = {
  id: true,
  email: true,
  name: true,
  emailVerified: true,
  createdAt: true,
  twoFactorEnabled: true,
  roles: true,
} as const;

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  createdAt: Date;
  twoFactorEnabled: boolean;
  /** Role names of the permission catalogue (server/admin/permissions.ts). */
  roles: string[];
}
