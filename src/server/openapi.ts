/**
 * The OpenAPI 3.1 document of the saltshard server, written by hand (served at /openapi.json).
 * @module
 */

const json = (schema: unknown) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const ofrepError = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/OfrepEvaluationFailure' }) });
const unauthorized = { description: 'Missing or wrong token (only when the server has a token).', content: json({ $ref: '#/components/schemas/Error' }) };

/** The document, for a given server version. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'saltshard server',
      version,
      description:
        'Eppo-UFC feature flags over HTTP: OpenFeature Remote Evaluation Protocol (OFREP v0.3), batch assignment, an Eppo-compatible config relay, health and metrics. ' +
        'When the server has a token, OFREP, batch and relay requests need `Authorization: Bearer <token>` (OFREP also accepts `X-API-Key`, the relay the `apiKey` query parameter). ' +
        'Every response carries `X-Request-Id` (the request\'s own when it sent a valid one). Errors are `{errorCode, errorDetails}`.',
    },
    servers: [{ url: 'http://127.0.0.1:8016' }],
    security: [{}, { bearer: [] }, { apiKeyHeader: [] }],
    paths: {
      '/ofrep/v1/evaluate/flags/{key}': {
        post: {
          operationId: 'evaluateFlag',
          summary: 'OFREP: evaluate one flag for a context',
          tags: ['OFREP'],
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/OfrepEvaluationRequest' }) },
          responses: {
            '200': { description: 'Evaluated. `value` is absent for DISABLED and DEFAULT: use the code default.', content: json({ $ref: '#/components/schemas/OfrepEvaluationSuccess' }) },
            '400': ofrepError('PARSE_ERROR (body not JSON, or the flag is broken), INVALID_CONTEXT, TARGETING_KEY_MISSING or GENERAL.'),
            '401': unauthorized,
            '404': ofrepError('FLAG_NOT_FOUND.'),
            '413': error('PAYLOAD_TOO_LARGE: body over the limit (64 KiB by default).'),
            '408': error('REQUEST_TIMEOUT: the body stalled longer than bodyTimeoutMs (5 s by default); the connection is closed.'),
            '503': ofrepError('PROVIDER_NOT_READY: no configuration loaded yet.'),
            '504': error('TIMEOUT.'),
          },
        },
      },
      '/ofrep/v1/evaluate/flags': {
        post: {
          operationId: 'evaluateAllFlags',
          summary: 'OFREP: evaluate every flag for a context (bulk)',
          tags: ['OFREP'],
          parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'ETag of a previous response; 304 when unchanged.' }],
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/OfrepEvaluationRequest' }) },
          responses: {
            '200': {
              description: 'Every flag; per-flag failures appear inside the list.',
              headers: { ETag: { schema: { type: 'string' } } },
              content: json({
                type: 'object',
                required: ['flags'],
                properties: {
                  flags: { type: 'array', items: { oneOf: [{ $ref: '#/components/schemas/OfrepEvaluationSuccess' }, { $ref: '#/components/schemas/OfrepEvaluationFailure' }] } },
                  metadata: { type: 'object', properties: { environment: { type: 'string' } } },
                },
              }),
            },
            '304': { description: 'Not modified (If-None-Match matched the ETag).' },
            '400': error('PARSE_ERROR, INVALID_CONTEXT or TARGETING_KEY_MISSING.'),
            '401': unauthorized,
            '413': error('PAYLOAD_TOO_LARGE.'),
            '408': error('REQUEST_TIMEOUT: the body stalled longer than bodyTimeoutMs (5 s by default); the connection is closed.'),
            '503': error('PROVIDER_NOT_READY.'),
          },
        },
      },
      '/v1/assign/batch': {
        post: {
          operationId: 'assignBatch',
          summary: 'Assign many subjects to many flags (rows as `saltshard assign` prints them; no exposure events)',
          tags: ['Assignment'],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['subjects'],
              properties: {
                subjects: {
                  type: 'array',
                  items: { type: 'object', required: ['subjectKey'], properties: { subjectKey: { type: 'string', minLength: 1 }, subjectAttributes: { type: 'object' } } },
                },
                flags: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Default: every flag of the config.' },
              },
            }),
          },
          responses: {
            '200': {
              description: 'One row per subject per flag, subjects in request order, flags in request (or config) order.',
              content: json({ type: 'object', required: ['assignments'], properties: { assignments: { type: 'array', items: { $ref: '#/components/schemas/AssignmentRow' } } } }),
            },
            '400': error('PARSE_ERROR or INVALID_REQUEST (names the field).'),
            '401': unauthorized,
            '413': error('PAYLOAD_TOO_LARGE, or BATCH_TOO_LARGE (subjects x flags over the limit, 10 000 by default; 1 000 subjects).'),
            '408': error('REQUEST_TIMEOUT: the body stalled longer than bodyTimeoutMs (5 s by default); the connection is closed.'),
            '503': error('PROVIDER_NOT_READY.'),
          },
        },
      },
      '/api/flag-config/v1/config': {
        get: {
          operationId: 'flagConfig',
          summary: 'Eppo-compatible config relay: the UFC config in force (use http://host:port/api as an Eppo SDK baseUrl)',
          tags: ['Relay'],
          parameters: [
            { name: 'apiKey', in: 'query', required: false, schema: { type: 'string' }, description: 'Ignored, unless the server has a token: then it must equal it (or send a Bearer header).' },
            { name: 'sdkName', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'sdkVersion', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'UFC JSON.', headers: { ETag: { schema: { type: 'string' } } }, content: json({ type: 'object', required: ['flags'] }) },
            '304': { description: 'Not modified.' },
            '401': unauthorized,
            '503': error('PROVIDER_NOT_READY.'),
          },
        },
      },
      '/v1/config/stream': {
        get: {
          operationId: 'configStream',
          summary: 'Config push by Server-Sent Events: the UFC config now (unless the client has it) and each change as it happens',
          description:
            'A `text/event-stream` that stays open. It starts with `retry: 500` (the reconnection delay, ms). Each config is one message: `id: <etag>`, `event: config`, `data: <UFC JSON on one line>`. ' +
            'A reconnecting client sends its last id (`Last-Event-ID`, or `lastEventId`) and is sent the current config only when it differs. ' +
            'A comment line (`: ping`) every heartbeat interval (15 s by default) keeps proxies from closing an idle stream. The stream ends at server shutdown; reconnect.',
          tags: ['Relay'],
          parameters: [
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'The id (ETag) of the last config the client received.' },
            { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string' }, description: 'Same as Last-Event-ID, for clients that cannot set headers.' },
            { name: 'apiKey', in: 'query', required: false, schema: { type: 'string' }, description: 'The server token, when it has one (or send a Bearer header).' },
          ],
          responses: {
            '200': {
              description: 'The event stream.',
              headers: { 'Cache-Control': { schema: { type: 'string', const: 'no-cache, no-transform' } } },
              content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events: `id: <etag>\\nevent: config\\ndata: <UFC JSON>\\n\\n` per config; `: ping` comments between.' } } },
            },
            '401': unauthorized,
            '503': error('PROVIDER_NOT_READY: shutting down.'),
          },
        },
      },
      '/v1/config/poll': {
        get: {
          operationId: 'configLongPoll',
          summary: 'Config push by long-poll, for runtimes without streaming bodies: held until the config differs from the one the client has',
          tags: ['Relay'],
          parameters: [
            { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' }, description: 'The ETag of the config the client has; without it the current config is answered at once.' },
            { name: 'etag', in: 'query', required: false, schema: { type: 'string' }, description: 'Same as If-None-Match.' },
            { name: 'waitMs', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 25000 }, description: 'Longest wait before 304 (capped by the server, 30 000 ms by default).' },
            { name: 'apiKey', in: 'query', required: false, schema: { type: 'string' }, description: 'The server token, when it has one (or send a Bearer header).' },
          ],
          responses: {
            '200': { description: 'A config other than the one named: UFC JSON, with its ETag.', headers: { ETag: { schema: { type: 'string' } } }, content: json({ type: 'object', required: ['flags'] }) },
            '304': { description: 'No change within waitMs; ask again with the same ETag.', headers: { ETag: { schema: { type: 'string' } } } },
            '401': unauthorized,
            '503': error('PROVIDER_NOT_READY: no configuration loaded yet, or shutting down (Retry-After: 1).'),
          },
        },
      },
      '/healthz': { get: { operationId: 'healthz', summary: 'Liveness', tags: ['Operations'], security: [{}], responses: { '200': { description: 'Alive.', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } } } },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Readiness: a config is loaded and fresh (a live client polled successfully within 3 intervals); 503 during shutdown',
          tags: ['Operations'],
          security: [{}],
          responses: {
            '200': { description: 'Ready.', content: json({ type: 'object', properties: { status: { const: 'ready' }, flags: { type: 'integer' }, environment: { type: 'string' } } }) },
            '503': error('NOT_READY, with the reason.'),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (text format 0.0.4)',
          tags: ['Operations'],
          security: [{}],
          responses: { '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': { get: { operationId: 'openapi', summary: 'This document', tags: ['Operations'], security: [{}], responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } } } },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['errorCode'],
          properties: { errorCode: { type: 'string' }, errorDetails: { type: 'string' } },
        },
        OfrepEvaluationRequest: {
          type: 'object',
          properties: {
            context: {
              type: 'object',
              required: ['targetingKey'],
              properties: { targetingKey: { type: 'string', minLength: 1, description: 'The Eppo subject key.' } },
              additionalProperties: true,
              description: 'Other fields are subject attributes; nested objects are flattened with dots.',
            },
          },
        },
        OfrepEvaluationSuccess: {
          type: 'object',
          required: ['key', 'reason'],
          properties: {
            key: { type: 'string' },
            value: { description: 'Absent for DISABLED and DEFAULT (use the code default).' },
            reason: { type: 'string', enum: ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'UNKNOWN'] },
            variant: { type: 'string' },
            metadata: {
              type: 'object',
              properties: { flagEvaluationCode: { type: 'string' }, environment: { type: 'string' }, allocationKey: { type: 'string' }, variationType: { type: 'string' } },
            },
          },
        },
        OfrepEvaluationFailure: {
          type: 'object',
          required: ['key', 'errorCode'],
          properties: {
            key: { type: 'string' },
            errorCode: { type: 'string', enum: ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL', 'FLAG_NOT_FOUND', 'PROVIDER_NOT_READY'] },
            errorDetails: { type: 'string' },
          },
        },
        AssignmentRow: {
          type: 'object',
          properties: {
            subjectKey: { type: 'string' },
            flagKey: { type: 'string' },
            variationType: { type: ['string', 'null'], enum: ['STRING', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'JSON', null] },
            variationKey: { type: ['string', 'null'] },
            value: { description: 'The typed value, null unless reason is MATCH.' },
            allocationKey: { type: ['string', 'null'] },
            reason: { type: 'string', description: 'Eppo flag evaluation code: MATCH, DEFAULT_ALLOCATION_NULL, FLAG_UNRECOGNIZED_OR_DISABLED, ASSIGNMENT_ERROR, ...' },
            doLog: { type: 'boolean' },
          },
        },
      },
    },
  };
}
