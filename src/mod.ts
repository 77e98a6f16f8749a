/**
 * saltshard: Eppo UFC-compatible feature flags and experiment assignment for Bun, Deno and Node.
 * @module
 * @example
 * import { offlineInit } from 'saltshard';
 * const client = offlineInit({ flagsConfiguration: json });
 * const color = client.getStringAssignment('button-color', 'user-42', { country: 'FR' }, 'blue');
 */
export { SaltshardClient } from './client.ts';
export { getBanditsConfiguration, getFlagsConfiguration, offlineInit } from './eppo-module.ts';
export type { AssignmentDetail, AssignmentDetails, ClientOptions, ContainerExperiment, JsonValue, OfflineInitOptions } from './client.ts';
export { InMemoryAssignmentCache, assignmentCacheKeyToString, assignmentCacheValueToString } from './events/assignment-cache.ts';
export type { AssignmentCache, AssignmentCacheEntry, AssignmentCacheKey, AssignmentCacheValue, AsyncMap, BanditCacheValue, VariationCacheValue } from './events/assignment-cache.ts';
export * from './eppo-types.ts';
export { MemoryOverrideStore } from './client/overrides.ts';
export type { OverridesPayload } from './client/overrides.ts';
export type { EvaluationHook, HookContext, HookEvaluationDetails } from './client/hooks.ts';
export { compileConfig } from './config/compile.ts';
export type { CompiledConfig, CompileOptions } from './config/compile.ts';
export type { ParsedConfig, ParsedFlag } from './config/parse.ts';
export type { AllocationWire, ConditionWire, ConfigWire, FlagWire, RangeWire, RuleWire, ShardWire, SplitWire, VariationWire } from './config/wire.ts';
export type { KernelBackend } from './wasm/kernel.ts';
export type { BatchOptions } from './client/batch.ts';
export type { EvaluateResult } from './client/assign.ts';
export type { ClientEvent } from './client/emitter.ts';
export type { ClientMetrics } from './client/metrics.ts';
export type { ContextValue, EventTrackingOptions, TrackedEvent, TrackingDispatcher, TrackingStats } from './events/tracking.ts';
export { NO_OP_EVENT_DISPATCHER } from './events/tracking.ts';
export type { FetchLike } from './live/fetcher.ts';
export { parseConfig } from './config/parse.ts';
export { ConfigError } from './errors.ts';
export type { AllocationEvaluationCode, FlagEvaluationCode, VariationType } from './errors.ts';
export type { AllocationEvaluation, FlagEvaluationDetails } from './eval/details.ts';
export type { Attributes } from './eval/reference.ts';
export type { AssignmentEvent, AssignmentLogger, Logger } from './events/logger.ts';
export { EppoAssignmentLogger } from './events/eppo-assignment-logger.ts';
export type { Tracker } from './events/eppo-assignment-logger.ts';
export { SDK_NAME, SDK_VERSION } from './version.ts';
export { createClient, getInstance, init } from './live/init.ts';
export type { InitOptions } from './live/init.ts';
export type { PersistentCache } from './live/cache.ts';
export type { SyncStatus } from './live/sync.ts';
export type { ConfigSourceOption, PushStatus } from './live/stream.ts';
export type { BanditActionDetails, BanditActionResult } from './client.ts';
export { parseBanditModels } from './bandits/model.ts';
export type { ActionCoefficients, BanditModelData, CategoricalCoefficient, NumericCoefficient, BanditModels, BanditParameters } from './bandits/model.ts';
export type { BanditActions, BanditSubjectAttributes, ContextAttributes } from './bandits/evaluate.ts';
export type { BanditEvent, BanditLogger } from './bandits/events.ts';
export { decodePrecomputed, lookupPrecomputedBandit, lookupPrecomputedFlag } from './precomputed.ts';
export type { DecodedPrecomputed, DecodedPrecomputedBandit, DecodedPrecomputedFlag } from './precomputed.ts';
export { BatchResult } from './eval/batch.ts';
export type { AssignmentRow, BatchSubject, ColumnarSubjects } from './eval/batch.ts';
