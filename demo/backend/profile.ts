/**
 * The runtime-adjustable part of a demo backend: how long, how hard and how often it fails.
 *
 * Kept apart from the listener so the admin endpoint can change a running backend (make one
 * server slow mid-run) without restarting it and losing its queue.
 *
 * @module
 */

import { formatDuration, parseDuration } from "../../lib/config/mod.ts";
import { createLatencySampler, type Distribution, DISTRIBUTIONS, type LatencyProfile } from "./latency.ts";

/** What each served request costs and how often it fails. */
export interface Profile extends LatencyProfile {
  /** Busy CPU time per request in milliseconds. */
  readonly cpuMs: number;
  /** Share of requests answered with 500, 0..1. */
  readonly errorRate: number;
}

/** The profile fields the duration keys of `POST /admin/profile` set. */
const DURATION_FIELDS = {
  latency: "latencyMs",
  jitter: "jitterMs",
  cpu: "cpuMs",
  tail_latency: "tailMs",
} as const;

/** A profile together with the latency sampler built for it. */
export interface ActiveProfile {
  /** The settings. */
  readonly profile: Profile;
  /** Draws one latency in milliseconds. */
  readonly nextLatency: () => number;
}

/** Build the sampler for `profile` using `random`. */
export function activate(profile: Profile, random: () => number): ActiveProfile {
  return { profile, nextLatency: createLatencySampler(profile, random) };
}

/** The profile as JSON for `GET /admin/profile`, durations written Go-style. */
export function profileToJson(profile: Profile): Record<string, string | number> {
  return {
    latency: formatDuration(profile.latencyMs),
    jitter: formatDuration(profile.jitterMs),
    distribution: profile.distribution,
    cpu: formatDuration(profile.cpuMs),
    error_rate: profile.errorRate,
    tail_ratio: profile.tailRatio ?? 0,
    tail_latency: formatDuration(profile.tailMs ?? 0),
  };
}

/**
 * Apply a partial update from `POST /admin/profile` (keys as in {@linkcode profileToJson}).
 *
 * @param current The profile in force.
 * @param body Parsed JSON body.
 * @returns The updated profile, or a message naming the first bad field.
 *
 * @example Usage
 * ```ts
 * import { updateProfile } from "./profile.ts";
 * const current = { latencyMs: 10, jitterMs: 0, distribution: "fixed" as const, cpuMs: 0, errorRate: 0 };
 * updateProfile(current, { latency: "200ms" }); // { ...current, latencyMs: 200 }
 * ```
 */
export function updateProfile(current: Profile, body: unknown): Profile | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "expected a JSON object";
  const fields = body as Record<string, unknown>;
  const next = { ...current };
  for (const [key, value] of Object.entries(fields)) {
    switch (key) {
      case "latency":
      case "jitter":
      case "cpu":
      case "tail_latency": {
        const ms = typeof value === "string" ? parseDuration(value) : undefined;
        if (ms === undefined) return `${key}: expected a duration like "20ms", got ${JSON.stringify(value)}`;
        next[DURATION_FIELDS[key]] = ms;
        break;
      }
      case "distribution":
        if (!(DISTRIBUTIONS as readonly unknown[]).includes(value)) {
          return `distribution: expected one of ${DISTRIBUTIONS.join(", ")}, got ${JSON.stringify(value)}`;
        }
        next.distribution = value as Distribution;
        break;
      case "error_rate":
      case "tail_ratio":
        if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
          return `${key}: expected a number in [0, 1], got ${JSON.stringify(value)}`;
        }
        next[key === "error_rate" ? "errorRate" : "tailRatio"] = value;
        break;
      default:
        return `unknown field "${key}"; known: latency, jitter, distribution, cpu, error_rate, tail_ratio, tail_latency`;
    }
  }
  return next;
}
