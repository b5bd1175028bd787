// The run history: one JSON Lines record per gate run (docs/prediction.md has the format).
export {
  HISTORY_SCHEMA_VERSION,
  historyRecordSchema,
  type HistoryRecord,
  type HistoryMetrics,
  type HistoryRegion,
} from './schema.ts';
export { parseHistory, formatHistoryLine, type ParsedHistory } from './parse.ts';
export { readHistory, appendHistory, type HistoryRead, type HistoryFs } from './file.ts';
export { historyTrends, type Trends, type TrendPoint } from './trends.ts';
