import { Title } from "@mantine/core";

export function Clients() {
  return <Title order={1} size="h2">Clients</Title>;
}
