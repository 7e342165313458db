// The live count of clients a filter matches. It needs audiencePreview on the server.
export function AudienceCount(_: { filter: { tags: string[]; operatorCodes: string[] } }) {
  return null;
}
