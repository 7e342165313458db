import { Title } from "@mantine/core";

export function Report() {
  return <Title order={1} size="h2">Daily report</Title>;
}
