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
export type Group = Schemas['GroupDto'];
export type GroupKind = Schemas['Kind'];
export type Visibility = Schemas['Visibility'];
export type Posting = Schemas['Posting'];
export type GroupRole = Schemas['GroupRole'];
export type AnnouncementComment = Schemas['AnnouncementCommentDto'];
export type Member = Schemas['MemberDto'];
export type Post = Schemas['PostDto'];
export type Comment = Schemas['CommentDto'];
export type Reaction = Schemas['Reaction'];
export type Attachment = Schemas['AttachmentDto'];
export type HomeFeed = Schemas['HomeFeed'];
export type GroupFeed = Schemas['GroupFeed'];
export type Announcement = Schemas['AnnouncementDto'];
export type AnnouncementStats = Schemas['AnnouncementStats'];
export type Audience = Schemas['Audience'];
export type Notification = Schemas['NotificationDto'];
export type NotificationPage = Schemas['NotificationPage'];
export type PostSearchResults = Schemas['PostSearchResults'];
export type Conversation = Schemas['ConversationDto'];
export type ConversationList = Schemas['ConversationList'];
export type ChatMessage = Schemas['MessageDto'];
export type MessagePage = Schemas['MessagePage'];
export type MessageSearchResults = Schemas['MessageSearchResults'];

/** Every reaction, in the order they are shown. */
export const REACTIONS: readonly Reaction[] = ['like', 'love', 'laugh', 'celebrate', 'insightful', 'sad'];


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
  requestPasswordReset: (email: string) =>
    request<void>('POST', '/api/v1/auth/password-reset', { body: { email } }),
  completePasswordReset: (token: string, password: string) =>
    request<void>('POST', '/api/v1/auth/password-reset/complete', { body: { token, password } }),
  invitePeople: (body: Schemas['InvitationRequest']) =>
    request<Schemas['InvitationOutcome']>('POST', '/api/v1/admin/invitations', { body }),
  sessions: () => request<Schemas['SessionList']>('GET', '/api/v1/me/sessions'),
  revokeSession: (id: string) => request<void>('DELETE', `/api/v1/me/sessions/${encodeURIComponent(id)}`),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>('PUT', '/api/v1/me/password', { body: { current_password: currentPassword, new_password: newPassword } }),
  mailStatus: () => request<Schemas['MailStatus']>('GET', '/api/v1/admin/mail'),
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

  groups: (query: { q?: string; kind?: GroupKind | ''; mine?: boolean; cursor?: string }, signal?: AbortSignal) =>
    request<Schemas['Page_GroupDto']>('GET', '/api/v1/groups', {
      query: { q: query.q || undefined, kind: query.kind || undefined, mine: query.mine || undefined, cursor: query.cursor, limit: 50 },
      signal,
    }),
  suggestedGroups: (signal?: AbortSignal) =>
    request<Schemas['Page_GroupDto']>('GET', '/api/v1/groups/suggested', { query: { limit: 6 }, signal }),
  group: (id: string, signal?: AbortSignal) => request<Group>('GET', `/api/v1/groups/${encodeURIComponent(id)}`, { signal }),
  createGroup: (body: Schemas['CreateGroupRequest']) => request<Group>('POST', '/api/v1/groups', { body }),
  updateGroup: (id: string, body: Schemas['UpdateGroupRequest']) => request<Group>('PATCH', `/api/v1/groups/${id}`, { body }),
  join: (id: string) => request<Group>('POST', `/api/v1/groups/${id}/join`),
  leave: (id: string) => request<Group>('POST', `/api/v1/groups/${id}/leave`),
  members: (id: string, state: 'member' | 'invited' | 'requested', cursor?: string, signal?: AbortSignal) =>
    request<Schemas['Page_MemberDto']>('GET', `/api/v1/groups/${id}/members`, { query: { state, cursor, limit: 50 }, signal }),
  invite: (id: string, personId: string) => request<Member>('POST', `/api/v1/groups/${id}/invitations`, { body: { person_id: personId } }),
  decide: (id: string, personId: string, approve: boolean) =>
    request<Member>('POST', `/api/v1/groups/${id}/requests/${personId}/${approve ? 'approve' : 'decline'}`),
  setCover: (id: string, file: Blob) => request<Group>('PUT', `/api/v1/groups/${id}/cover`, { body: file }),
  removeCover: (id: string) => request<Group>('DELETE', `/api/v1/groups/${id}/cover`),
  deleteGroup: (id: string) => request<void>('DELETE', `/api/v1/groups/${id}`),
  setMemberRole: (id: string, personId: string, role: GroupRole) =>
    request<Member>('PUT', `/api/v1/groups/${id}/members/${personId}`, { body: { role } }),
  removeMember: (id: string, personId: string) => request<void>('DELETE', `/api/v1/groups/${id}/members/${personId}`),

  homeFeed: (cursor?: string, signal?: AbortSignal) => request<HomeFeed>('GET', '/api/v1/feed', { query: { cursor }, signal }),
  groupFeed: (id: string, cursor?: string, signal?: AbortSignal) =>
    request<GroupFeed>('GET', `/api/v1/groups/${id}/posts`, { query: { cursor }, signal }),
  postsBy: (personId: string, cursor?: string, signal?: AbortSignal) =>
    request<Schemas['Page_PostDto']>('GET', `/api/v1/people/${personId}/posts`, { query: { cursor }, signal }),
  createPost: (groupId: string, body: string, attachments: string[], idempotencyKey: string) =>
    request<Post>('POST', `/api/v1/groups/${groupId}/posts`, {
      body: { body, attachments },
      headers: { 'Idempotency-Key': idempotencyKey },
    }),
  post: (id: string, signal?: AbortSignal) => request<Post>('GET', `/api/v1/posts/${encodeURIComponent(id)}`, { signal }),
  editPost: (id: string, body: string, attachments?: string[]) =>
    request<Post>('PATCH', `/api/v1/posts/${id}`, { body: { body, attachments } }),
  deletePost: (id: string) => request<void>('DELETE', `/api/v1/posts/${id}`),
  pin: (id: string, on: boolean) => request<Post>(on ? 'PUT' : 'DELETE', `/api/v1/posts/${id}/pin`),
  react: (id: string, reaction: Reaction, on: boolean) =>
    request<Schemas['ReactionSummary']>(on ? 'PUT' : 'DELETE', `/api/v1/posts/${id}/reactions/${reaction}`),
  comments: (postId: string, signal?: AbortSignal) =>
    request<Schemas['Page_CommentDto']>('GET', `/api/v1/posts/${postId}/comments`, { query: { limit: 200 }, signal }),
  comment: (postId: string, body: string, replyTo?: string) =>
    request<Comment>('POST', `/api/v1/posts/${postId}/comments`, { body: { body, reply_to: replyTo } }),
  preview: (body: string) => request<Schemas['PreviewDto']>('POST', '/api/v1/posts/preview', { body: { body } }),
  searchPosts: (q: string, signal?: AbortSignal) =>
    request<PostSearchResults>('GET', '/api/v1/posts/search', { query: { q }, signal }),
  conversations: (signal?: AbortSignal) =>
    request<ConversationList>('GET', '/api/v1/conversations', { query: { limit: 100 }, signal }),
  conversation: (id: string, signal?: AbortSignal) =>
    request<Conversation>('GET', `/api/v1/conversations/${encodeURIComponent(id)}`, { signal }),
  startConversation: (personIds: string[], name?: string) =>
    request<Conversation>('POST', '/api/v1/conversations', { body: { person_ids: personIds, name: name || undefined } }),
  groupChannel: (groupId: string) => request<Conversation>('GET', `/api/v1/groups/${groupId}/conversation`),
  muteConversation: (id: string, muted: boolean) => request<Conversation>('PATCH', `/api/v1/conversations/${id}`, { body: { muted } }),
  messages: (id: string, anchor: { before?: string; after?: string; around?: string }, signal?: AbortSignal) =>
    request<MessagePage>('GET', `/api/v1/conversations/${encodeURIComponent(id)}/messages`, { query: { ...anchor, limit: 50 }, signal }),
  sendMessage: (id: string, body: Schemas['SendMessage']) =>
    request<ChatMessage>('POST', `/api/v1/conversations/${id}/messages`, { body }),
  editMessage: (id: string, body: string) => request<ChatMessage>('PATCH', `/api/v1/messages/${id}`, { body: { body } }),
  deleteMessage: (id: string) => request<void>('DELETE', `/api/v1/messages/${id}`),
  reactToMessage: (id: string, reaction: Reaction, on: boolean) =>
    request<ChatMessage>(on ? 'PUT' : 'DELETE', `/api/v1/messages/${id}/reactions/${reaction}`),
  markConversationRead: (id: string, messageId: string) =>
    request<unknown>('POST', `/api/v1/conversations/${id}/read`, { body: { message_id: messageId } }),
  searchMessages: (q: string, signal?: AbortSignal) =>
    request<MessageSearchResults>('GET', '/api/v1/messages/search', { query: { q }, signal }),
  upload: (file: File) =>
    request<Attachment>('POST', '/api/v1/attachments', {
      body: file,
      contentType: 'application/octet-stream',
      query: { name: file.name },
    }),

  notifications: (signal?: AbortSignal) => request<NotificationPage>('GET', '/api/v1/notifications', { query: { limit: 50 }, signal }),
  markRead: (ids?: string[]) => request<Schemas['UnreadCount']>('POST', '/api/v1/notifications/read', { body: ids ? { ids } : {} }),

  announcement: (id: string, signal?: AbortSignal) => request<Announcement>('GET', `/api/v1/announcements/${id}`, { signal }),
  announcements: (cursor?: string, signal?: AbortSignal) =>
    request<Schemas['Page_AnnouncementDto']>('GET', '/api/v1/announcements', { query: { cursor, limit: 50 }, signal }),
  createAnnouncement: (body: Schemas['CreateAnnouncementRequest']) => request<Announcement>('POST', '/api/v1/announcements', { body }),
  publish: (id: string) => request<Announcement>('POST', `/api/v1/announcements/${id}/publish`, { body: {} }),
  acknowledge: (id: string) => request<Announcement>('POST', `/api/v1/announcements/${id}/acknowledge`),
  audienceCount: (audience: Audience, signal?: AbortSignal) => {
    const params = new URLSearchParams();
    for (const department of audience.departments ?? []) params.append('department', department);
    for (const location of audience.locations ?? []) params.append('location', location);
    const search = params.toString();
    return request<Schemas['AudienceCount']>('GET', `/api/v1/announcements/audience${search ? `?${search}` : ''}`, { signal });
  },
  stats: (id: string, signal?: AbortSignal) => request<AnnouncementStats>('GET', `/api/v1/announcements/${id}/stats`, { signal }),
  remind: (id: string) => request<void>('POST', `/api/v1/announcements/${id}/remind`),
  announcementComments: (id: string, signal?: AbortSignal) =>
    request<Schemas['Page_AnnouncementCommentDto']>('GET', `/api/v1/announcements/${id}/comments`, { query: { limit: 100 }, signal }),
  commentOnAnnouncement: (id: string, body: string) =>
    request<AnnouncementComment>('POST', `/api/v1/announcements/${id}/comments`, { body: { body } }),
  deleteAnnouncementComment: (id: string, commentId: string) =>
    request<void>('DELETE', `/api/v1/announcements/${id}/comments/${commentId}`),
};
