// The API's errors in the user's words, next to the field they name
// (extensions.field, or extensions.fields when several fields are wrong).
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

export type FormErrors = { fields: Record<string, string>; general: string[] };

const codeWords: Record<string, string> = {
  UNAUTHENTICATED: "Your sign-in is no longer valid: sign in again.",
  FORBIDDEN: "Your role may not do this.",
  NOT_FOUND: "It no longer exists (someone may have deleted it).",
  CONFLICT: "That is not possible in its current state (it may have just changed).",
  TIMEOUT: "The service took too long to answer; try again.",
  INTERNAL: "The service failed to do this; try again, or tell an administrator",
};

function sentence(s: string): string {
  const t = s.trim();
  return t ? t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".") : t;
}

export function formErrors(err: unknown): FormErrors {
  const out: FormErrors = { fields: {}, general: [] };
  if (!err) return out;
  if (CombinedGraphQLErrors.is(err)) {
    for (const e of err.errors) {
      const ext = (e.extensions ?? {}) as Record<string, unknown>;
      const list = ext.fields as { field: string; message: string }[] | undefined;
      if (list?.length) {
        for (const f of list) out.fields[f.field] ??= sentence(f.message);
      } else if (typeof ext.field === "string") {
        const prefix = ext.field + ": ";
        const msg = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
        out.fields[ext.field] ??= sentence(msg);
      } else {
        const code = ext.code as string | undefined;
        let words = (code && codeWords[code]) || sentence(e.message);
        if (code === "INTERNAL" && ext.requestId) words += ` (request ${String(ext.requestId)}).`;
        else if (code === "INTERNAL") words += ".";
        out.general.push(words);
      }
    }
    return out;
  }
  if (ServerError.is(err)) {
    out.general.push(
      err.statusCode === 401
        ? codeWords.UNAUTHENTICATED
        : err.statusCode === 403
          ? codeWords.FORBIDDEN
          : `The service answered HTTP ${err.statusCode}.`,
    );
    return out;
  }
  const msg = err instanceof Error ? err.message : String(err);
  out.general.push(/fetch|network/i.test(msg) ? "The service cannot be reached; check the connection and try again." : sentence(msg));
  return out;
}

// unauthenticated reports whether the API refused err's credentials (HTTP 401, or a
// GraphQL error UNAUTHENTICATED).
export function unauthenticated(err: unknown): boolean {
  if (ServerError.is(err)) return err.statusCode === 401;
  return CombinedGraphQLErrors.is(err) && err.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
}

// errorText is every error of err in one line, for places without fields.
export function errorText(err: unknown): string {
  const e = formErrors(err);
  return [...e.general, ...Object.entries(e.fields).map(([f, m]) => `${f}: ${m}`)].join(" ");
}
