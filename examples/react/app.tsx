/**
 * A React frontend on Gatehouse with TanStack Query (`@trpc/tanstack-react-query`):
 * sign in, show the signed-in user, sign out. Type-checked by `npm run typecheck`
 * (examples/react/tsconfig.json); a frontend installs
 *
 *   npm install ./gatehouse-client-0.1.0.tgz @trpc/client @trpc/server \
 *     @trpc/tanstack-react-query @tanstack/react-query react react-dom
 *
 * The tRPC client is built from the Gatehouse client's own links, so it stores
 * the token pair, sends the bearer token and refreshes expired access tokens
 * exactly like `createGatehouseClient`.
 */
import { QueryClient, QueryClientProvider, useMutation, useQuery } from "@tanstack/react-query";
import { createTRPCClient } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { appCodeOf, isGatehouseError, memoryTokenStore, type AppRouter } from "@gatehouse/client";
import { gatehouseLinks } from "@gatehouse/client/trpc";
import { useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";

const tokens = memoryTokenStore();
const queryClient = new QueryClient();
const trpcClient = createTRPCClient<AppRouter>({ links: gatehouseLinks({ url: "/trpc", tokens }) });
const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/** What to tell the user about a failed call, by its appCode. */
function explain(error: unknown): string {
  if (isGatehouseError(error, "INVALID_CREDENTIALS")) return "Wrong email or password.";
  if (isGatehouseError(error, "RATE_LIMITED")) return "Too many attempts, try again in a minute.";
  return `Something went wrong (${appCodeOf(error) ?? "network"}).`;
}

function SignIn() {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({ onSuccess: () => queryClient.invalidateQueries(trpc.auth.me.pathFilter()) }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password });
  };
  return (
    <form onSubmit={submit}>
      <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="Email" />
      <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="Password" />
      <button disabled={login.isPending}>Sign in</button>
      {login.error && <p role="alert">{explain(login.error)}</p>}
      {login.data?.mfaRequired && <p>Enter the code from your authenticator app ({login.data.methods.join(", ")}).</p>}
    </form>
  );
}

function Account() {
  const trpc = useTRPC();
  // Signed out, `auth.me` answers TOKEN_MISSING: no retry, show the form.
  const me = useQuery({ ...trpc.auth.me.queryOptions(), retry: false, enabled: tokens.get() !== null });
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSettled: () => queryClient.resetQueries() }));
  if (!me.data) return <SignIn />;
  return (
    <p>
      Signed in as {me.data.name} &lt;{me.data.email}&gt;, member since {me.data.createdAt.toLocaleDateString()}.{" "}
      <button onClick={() => logout.mutate()}>Sign out</button>
    </p>
  );
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Account />
      </TRPCProvider>
    </QueryClientProvider>
  );
}

/** Mounts the app, e.g. `mount(document.getElementById("root")!)`. */
export function mount(element: HTMLElement): void {
  createRoot(element).render(<App />);
}
