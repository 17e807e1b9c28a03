// The configuration module's public surface.
export { loadConfig, type LoadOptions, type LoadedConfig, type Environment } from './load.js';
export { ConfigError, formatProblem, type ConfigProblem } from './problems.js';
export { findCookieForHost, hostIsWithin } from './cookies.js';
export { cookieDomainProblem } from './validate.js';
export type { Config, RawConfig, CookieConfig, AccessControlConfig, RuleConfig, Policy, TlsConfig } from './schema.js';
