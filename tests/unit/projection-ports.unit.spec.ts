import { InMemoryEffectMarkers } from '../../src/projections/effect-markers.ts';
import { InMemoryJobsTable } from '../../src/projections/job-status.ts';
import { effectMarkersContract, jobsTableContract } from '../support/projection-ports-contract.ts';

jobsTableContract('InMemoryJobsTable', () => {
  const jobs = new InMemoryJobsTable();
  return {
    jobs,
    seed: async (item) => void jobs.items.set(item.jobId as string, structuredClone(item)),
    remove: async (jobId) => void jobs.items.delete(jobId),
    item: async (jobId) => structuredClone(jobs.items.get(jobId)),
  };
});

effectMarkersContract('InMemoryEffectMarkers', () => new InMemoryEffectMarkers());
