import { allHandlersFinished, condition, continueAsNew, currentUpdateInfo, setHandler, workflowInfo } from '@temporalio/workflow';
import { type AliasChange, type AliasRequest, type ModelVersion, type RegistryState, registerVersionUpdate, setAliasUpdate, registryStateQuery, championQuery, versionQuery, STALE_DECISION } from '../contracts/registry';

/** Past this many history events the registry continues as new, carrying its state. */
const HISTORY_LIMIT = 2_000;
/** Audit entries the state carries; older ones are archived in the histories of earlier runs. */
export const AUDIT_KEPT = 200;
/** Update ids remembered for de-duplication across continue-as-new. */
const APPLIED_KEPT = 500;

/**
 * The model registry as a long-lived entity workflow, one per model: versions with lineage and the
 * `champion` / `challenger` aliases, changed only through updates (validated, so a bad request leaves no
 * trace) and read through a query. Every change is an event in its history: durable and audited, with
 * no database besides Temporal's. Continues as new before its history grows large.
 */
export async function modelRegistry(input: { model: string; state?: RegistryState }): Promise<void> {
  const state: RegistryState = input.state ?? { model: input.model, versions: [], aliases: {}, audit: [] };

  setHandler(registryStateQuery, () => state);
  setHandler(championQuery, () => ({ model: state.model, champion: state.versions.find((v) => v.version === state.aliases.champion), versions: state.versions.length }));
  setHandler(versionQuery, (version) => state.versions.find((v) => v.version === version) ?? null);
  const applied = (state.applied ??= {});

  setHandler(registerVersionUpdate, (entry) => {
    const existing = state.versions.find((v) => v.modelFingerprint === entry.modelFingerprint);
    if (existing) return existing;
    const version: ModelVersion = { ...entry, version: state.versions.length + 1, registeredAt: new Date().toISOString() };
    state.versions.push(version);
    return version;
  });

  setHandler(
    setAliasUpdate,
    (request) => {
      const id = currentUpdateInfo()?.id;
      const earlier = id === undefined ? undefined : applied[id];
      if (earlier) return earlier; // a retried request: answered, not applied twice
      const { expected: _expected, ...decision } = request;
      const change: AliasChange = { ...decision, previous: state.aliases[request.alias] ?? null, at: new Date().toISOString() };
      if (request.version === null) delete state.aliases[request.alias];
      else state.aliases[request.alias] = request.version;
      state.audit.push(change);
      if (state.audit.length > AUDIT_KEPT) {
        const archived = state.audit.splice(0, state.audit.length - AUDIT_KEPT);
        state.auditArchived = (state.auditArchived ?? 0) + archived.length;
      }
      if (id !== undefined) {
        applied[id] = change;
        const ids = Object.keys(applied);
        for (const old of ids.slice(0, Math.max(0, ids.length - APPLIED_KEPT))) delete applied[old];
      }
      return change;
    },
    {
      validator: (request: AliasRequest) => {
        if (request.alias !== 'champion' && request.alias !== 'challenger') throw new Error(`unknown alias "${String(request.alias)}"`);
        if (request.version !== null && !state.versions.some((v) => v.version === request.version)) {
          throw new Error(`model ${state.model} has no version ${request.version} (versions: 1..${state.versions.length})`);
        }
        if (!request.actor || !request.reason) throw new Error('an alias change needs an actor and a reason, for the audit log');
        const id = currentUpdateInfo()?.id;
        if (id !== undefined && applied[id]) return; // a retry of an applied request: the handler answers it
        const current: number | null = state.aliases[request.alias] ?? null;
        if (request.expected !== undefined && request.expected !== current) {
          const name = (v: number | null) => (v === null ? 'none' : `v${v}`);
          throw new Error(
            `${STALE_DECISION}: the ${request.alias} of ${state.model} is ${name(current)} now, not ${name(request.expected)} as when this decision was made; compare against ${name(current)} and decide again`,
          );
        }
      },
    },
  );

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof modelRegistry>({ model: input.model, state });
}
