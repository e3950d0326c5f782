// Typed calls to Plein's JSON API. The types come from the server's OpenAPI document
// (src/api/openapi.json → src/api/schema.ts, `npm run api:types`); CI checks both are current.

import type { components } from './schema';
import { request } from './http';

type Schemas = components['schemas'];
export type PersonCard = Schemas['PersonCard'];
export type Profile = Schemas['ProfileDto'];
export type Person = Schemas['PersonDto'];
export type SearchResponse = Schemas['SearchResponse'];
export type FacetCount = Schemas['FacetCount'];
export type OrgChart = Schemas['OrgChart'];
export type ProfilePatch = Schemas['ProfilePatch'];
export type LoginResponse = Schemas['LoginResponse'];
export type SetupStatus = Schemas['SetupStatus'];
export type ImportSummary = Schemas['ImportSummary'];
export type ApiToken = Schemas['ApiTokenDto'];
export type CreatedToken = Schemas['CreatedToken'];
export type Role = Schemas['Role'];
export type Scope = Schemas['Scope'];


/** The admins' people list: a search and filters; empty ones are left out. */
export interface AdminPeopleFilters {
  q: string;
  role: Role | '';
  status: 'active' | 'inactive' | '';
  department: string;
}

export interface SearchParams {
  q: string;
  department?: string | undefined;
  location?: string | undefined;
  skill?: string | undefined;
  limit?: number;
}

export const api = {
  setupStatus: () => request<SetupStatus>('GET', '/api/v1/setup'),
  setup: (body: Schemas['SetupRequest']) => request<LoginResponse>('POST', '/api/v1/setup', { body }),
  login: (email: string, password: string) =>
    request<LoginResponse>('POST', '/api/v1/auth/login', { body: { email, password } }),
  logout: () => request<void>('POST', '/api/v1/auth/logout'),
  setLanguage: (language: Schemas['Language'] | null) =>
    request<Person>('PUT', '/api/v1/me/language', { body: { language } }),
  me: (signal?: AbortSignal) => request<Person>('GET', '/api/v1/me', { signal, anonymousAllowed: true }),
  search: (params: SearchParams, signal?: AbortSignal) =>
    request<SearchResponse>('GET', '/api/v1/people/search', { query: { ...params }, signal }),
  person: (id: string, signal?: AbortSignal) =>
    request<Profile>('GET', `/api/v1/people/${encodeURIComponent(id)}`, { signal }),
  org: (id: string, signal?: AbortSignal) =>
    request<OrgChart>('GET', `/api/v1/people/${encodeURIComponent(id)}/org`, { signal }),
  updateProfile: (patch: ProfilePatch) => request<Profile>('PATCH', '/api/v1/me/profile', { body: patch }),
  uploadPhoto: (file: Blob) => request<Profile>('PUT', '/api/v1/me/photo', { body: file }),
  removePhoto: () => request<Profile>('DELETE', '/api/v1/me/photo'),
  importPeople: (csv: Blob, options: { dryRun: boolean; deactivateMissing: boolean }) =>
    request<ImportSummary>('POST', '/api/v1/admin/people/import', {
      body: csv,
      contentType: 'text/csv',
      query: { dry_run: options.dryRun, deactivate_missing: options.deactivateMissing },
    }),
  adminPeople: (filters: AdminPeopleFilters, cursor?: string, signal?: AbortSignal) =>
    request<Schemas['AdminPeoplePage']>('GET', '/api/v1/admin/people', {
      query: {
        q: filters.q || undefined,
        role: filters.role || undefined,
        status: filters.status || undefined,
        department: filters.department || undefined,
        cursor,
        limit: 50,
      },
      signal,
    }),
  setRole: (id: string, role: Role) => request<Person>('PUT', `/api/v1/admin/people/${id}/role`, { body: { role } }),
  deactivate: (id: string) => request<Person>('POST', `/api/v1/admin/people/${id}/deactivate`),
  reactivate: (id: string) => request<Person>('POST', `/api/v1/admin/people/${id}/reactivate`),
  tokens: (signal?: AbortSignal) => request<Schemas['Page_ApiTokenDto']>('GET', '/api/v1/admin/tokens', { query: { limit: 100 }, signal }),
  createToken: (name: string, scopes: Scope[]) =>
    request<CreatedToken>('POST', '/api/v1/admin/tokens', { body: { name, scopes } }),
  revokeToken: (id: string) => request<void>('DELETE', `/api/v1/admin/tokens/${id}`),
};
