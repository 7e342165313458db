// The live count of the clients a filter matches (audiencePreview): who a mailing
// created now would be sent to, opted-out phones left out. Asked again 300 ms after
// the filter stops changing.
import { useQuery } from "@apollo/client/react";
import { Group, Loader, Text } from "@mantine/core";
import { useEffect, useState } from "react";
import { errorText } from "../errors";
import { graphql } from "../gql";

const Preview = graphql(`
  query AudiencePreview($filter: ClientFilterInput!) {
    audiencePreview(filter: $filter) {
      count
      byOperatorCode {
        value
        count
      }
      byTag {
        value
        count
      }
    }
  }
`);

export function AudienceCount({ filter }: { filter: { tags: string[]; operatorCodes: string[] } }) {
  const key = JSON.stringify(filter);
  const [debounced, setDebounced] = useState(key);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(key), 300);
    return () => clearTimeout(t);
  }, [key]);
  const { data, previousData, error, loading } = useQuery(Preview, {
    variables: { filter: JSON.parse(debounced) as typeof filter },
    fetchPolicy: "network-only",
  });
  const shown = data ?? previousData;
  const p = shown?.audiencePreview;
  const top = (list: readonly { value: string; count: number }[]) =>
    list
      .slice(0, 5)
      .map((c) => `${c.value || "(none)"} ${c.count.toLocaleString()}`)
      .join(", ");
  return (
    <div aria-live="polite" data-testid="audience">
      <Group gap="xs" mt="sm">
        <Text fw={600}>
          {p ? (
            <span data-testid="audience-count" data-count={loading || debounced !== key ? undefined : p.count}>
              {p.count.toLocaleString()} recipients
            </span>
          ) : (
            "Counting recipients…"
          )}
        </Text>
        {(loading || debounced !== key) && <Loader size="xs" aria-label="Counting" />}
      </Group>
      {p && p.count > 0 && (
        <Text size="sm">
          By tag: {top(p.byTag)}. By operator: {top(p.byOperatorCode)}.
        </Text>
      )}
      {error && (
        <Text size="sm" c="red.9" role="alert">
          {errorText(error)}
        </Text>
      )}
    </div>
  );
}
