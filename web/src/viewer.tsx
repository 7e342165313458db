// Who is signed in and what their role may do: the UI offers only those actions.
import { createContext, useContext } from "react";

export type Role = "VIEWER" | "OPERATOR" | "ADMIN";
const rank: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

export type Viewer = { name: string; role: Role | null; open: boolean };

export const ViewerContext = createContext<Viewer>({ name: "", role: null, open: false });

export function useViewer() {
  return useContext(ViewerContext);
}

// useCan reports whether the viewer's role includes need.
export function useCan(need: Role): boolean {
  const v = useViewer();
  return !!v.role && rank[v.role] >= rank[need];
}
