// The dashboard: messages by status, sends over time (sampled from the totals while the
// page is open), and the mailings in progress with live progress bars.
import { useQuery } from "@apollo/client/react";
import { Alert, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { MailingProgress, StatusBadge } from "../components";
import { errorText } from "../errors";
import { graphql } from "../gql";
import { linkProps } from "../router";
import { LiveStats } from "./Mailings";

const DashboardQuery = graphql(`
  query Dashboard {
    generalStatistics {
      mailings
      messages
      byStatus {
        status
        count
      }
      perMailing(limit: 20) {
        mailingID
        status
        total
        byStatus {
          status
          count
        }
      }
    }
  }
`);

const SAMPLE_MS = 2_000;
const KEEP = 300; // 10 minutes of samples

export function Dashboard() {
  const { data, error } = useQuery(DashboardQuery, { pollInterval: SAMPLE_MS, fetchPolicy: "network-only" });
  const [series, setSeries] = useState<{ t: number[]; sent: number[]; failed: number[] }>({ t: [], sent: [], failed: [] });
  const last = useRef<{ sent: number; failed: number } | null>(null);
  const g = data?.generalStatistics;
  useEffect(() => {
    if (!g) return;
    const count = (s: string) => g.byStatus.find((c) => c.status === s)?.count ?? 0;
    const now = { sent: count("SENT"), failed: count("FAILED") + count("EXPIRED") };
    const prev = last.current;
    last.current = now;
    if (!prev) return;
    setSeries((s) => ({
      t: [...s.t, Date.now() / 1000].slice(-KEEP),
      sent: [...s.sent, Math.max(0, now.sent - prev.sent) / (SAMPLE_MS / 1000)].slice(-KEEP),
      failed: [...s.failed, Math.max(0, now.failed - prev.failed) / (SAMPLE_MS / 1000)].slice(-KEEP),
    }));
  }, [g]);

  const active = g?.perMailing.filter((m) => m.status === "RUNNING" || m.status === "PAUSED" || m.status === "SCHEDULED") ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Dashboard
      </Title>
      {error && (
        <Alert color="red" role="alert">
          {errorText(error)}
        </Alert>
      )}
      {g && (
        <>
          <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }} data-testid="totals">
            <Total label="mailings" value={g.mailings} />
            <Total label="messages" value={g.messages} />
            {g.byStatus.map((c) => (
              <Total key={c.status} label={c.status.toLowerCase()} value={c.count} />
            ))}
          </SimpleGrid>
          <Paper withBorder p="md">
            <Title order={2} size="h4">
              Sends per second
            </Title>
            <Text size="sm" mb="xs">
              Sampled every {SAMPLE_MS / 1000} s while this page is open.
            </Text>
            <SendsChart series={series} />
          </Paper>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="xs">
              Mailings in progress
            </Title>
            {active.length === 0 && <Text size="sm">None right now.</Text>}
            <Stack gap="sm" data-testid="running">
              {active.map((m) => (
                <div key={m.mailingID}>
                  <LiveStats id={m.mailingID} />
                  <Group gap="xs" mb={4}>
                    <a {...linkProps(`/ui/mailings/${m.mailingID}`)}>Mailing {m.mailingID}</a>
                    <StatusBadge status={m.status} />
                  </Group>
                  <MailingProgress total={m.total} byStatus={m.byStatus} label={`Progress of mailing ${m.mailingID}`} />
                </div>
              ))}
            </Stack>
          </Paper>
        </>
      )}
    </Stack>
  );
}

function Total({ label, value }: { label: string; value: number }) {
  return (
    <Paper withBorder p="sm" data-testid={`total-${label}`}>
      <Text size="sm">{label}</Text>
      <Text size="xl" fw={700}>
        {value.toLocaleString()}
      </Text>
    </Paper>
  );
}

function SendsChart({ series }: { series: { t: number[]; sent: number[]; failed: number[] } }) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = ref.current!;
    const width = () => Math.max(280, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 220,
        series: [
          {},
          { label: "sent/s", stroke: "#2b8a3e", width: 2 },
          { label: "failed or expired/s", stroke: "#c92a2a", width: 2 },
        ],
        axes: [{}, { label: "per second" }],
        scales: { x: { time: true } },
      },
      [[], [], []],
      el,
    );
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([series.t, series.sent, series.failed]);
  }, [series]);
  return <div ref={ref} className="chart" role="img" aria-label="Chart of messages sent and failed per second" data-testid="sends-chart" />;
}
