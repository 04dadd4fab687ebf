// The server administrators' reports: each reported message with a few around it, who reported
// it and why, and "Resolved" once handled.
import { useCallback, useEffect, useState } from 'react';
import type { ReportView } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { messageTime } from '../app/time.ts';
import { Dialog } from './Dialog.tsx';

export function ReportsDialog({ onClose }: { onClose(): void }) {
  const client = useClient();
  const [reports, setReports] = useState<ReportView[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setReports(await client.reports());
      setError(null);
    } catch (caught) {
      setError(`Could not load the reports: ${(caught as Error).message}`);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const resolve = async (id: string) => {
    try {
      await client.resolveReport(id);
      await load();
    } catch (caught) {
      setError(`Could not resolve it: ${(caught as Error).message}`);
    }
  };

  return (
    <Dialog title="Reported messages" onClose={onClose} className="reports-dialog">
      <div className="stack">
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {reports === null && !error && <p role="status">Loading…</p>}
        {reports?.length === 0 && <p className="muted">No open reports.</p>}
        <ul className="reports" aria-label="Open reports">
          {reports?.map((report) => (
            <li key={report.id} className="report">
              <p>
                <strong>{report.reporter.displayName || report.reporter.username}</strong> reported a message in{' '}
                <strong>{report.conversation.kind === 'dm' ? 'a direct conversation' : report.conversation.title}</strong> · {messageTime(report.createdAt)}
              </p>
              <p className="report-reason">“{report.reason}”</p>
              <ol className="report-context" aria-label="The message and those around it">
                {[...report.context, ...(report.message ? [report.message] : [])]
                  .sort((a, b) => a.seq - b.seq)
                  .map((m) => (
                    <li key={m.id} className={m.id === report.message?.id ? 'reported' : undefined}>
                      <strong>{m.author.displayName || m.author.username}</strong> <span>{m.deleted ? '(deleted)' : m.body}</span>
                    </li>
                  ))}
              </ol>
              {!report.message && <p className="muted">The message is not on the server.</p>}
              <button type="button" onClick={() => void resolve(report.id)}>
                Resolved
              </button>
            </li>
          ))}
        </ul>
      </div>
    </Dialog>
  );
}
