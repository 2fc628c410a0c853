/** The BullMQ job payload for one run (job id = runId). */
export interface RunJobData {
  taskId: string;
  runId: string;
  userId: string;
  text: string;
}
