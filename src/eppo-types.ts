/**
 * Eppo's public type names, as aliases of saltshard's own, so a TypeScript program written for
 * `@eppo/node-server-sdk` type-checks when only its import changes.
 * @module
 */
import type { AssignmentDetail, AssignmentDetails, ContainerExperiment } from './client.ts';
import type { InitOptions } from './live/init.ts';
import type { AssignmentEvent, AssignmentLogger, Logger } from './events/logger.ts';
import type { BanditEvent, BanditLogger } from './bandits/events.ts';
import type { FlagEvaluationDetails } from './eval/details.ts';

export { EppoClient, HybridConfigurationStore, MemoryOnlyConfigurationStore, MemoryStore } from './eppo-module.ts';
export type { EppoClientParameters, IAsyncStore, SyncStore } from './eppo-module.ts';
export type { BanditVariation, Environment, FlagConfigurationRequestParameters, IConfigurationStore } from './client.ts';
/** Eppo's `IClientConfig`: the options of `init`. */
export type IClientConfig = InitOptions;
/** Eppo's `IAssignmentLogger`. */
export type IAssignmentLogger = AssignmentLogger;
/** Eppo's `IAssignmentEvent`. */
export type IAssignmentEvent = AssignmentEvent;
/** Eppo's `IAssignmentDetails`. */
export type IAssignmentDetails<T> = AssignmentDetails<T>;
/** Eppo's `IFlagEvaluationDetails`. */
export type IFlagEvaluationDetails = FlagEvaluationDetails;
/** Eppo's `IBanditLogger`. */
export type IBanditLogger = BanditLogger;
/** Eppo's `IBanditEvent`. */
export type IBanditEvent = BanditEvent;
/** Eppo's `IContainerExperiment`. */
export type IContainerExperiment<T> = ContainerExperiment<T>;
/** Eppo's `FlagEvaluation` (what `getAssignmentDetail` returns). */
export type FlagEvaluation = AssignmentDetail;
/** Eppo's `AttributeType`: one attribute's value. */
export type AttributeType = string | number | boolean | null | undefined;
/** Eppo's `ISyncStore<T>` (what `setOverrideStore` takes) and `Variation` (what it holds). */
export type { ISyncStore, Variation } from './client/overrides.ts';
/** Eppo's `ILogger`-like application logger. */
export type ILogger = Logger;
