import { Title } from "@mantine/core";

export function OptOuts() {
  return <Title order={1} size="h2">Opt-outs</Title>;
}
