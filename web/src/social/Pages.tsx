import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, type Announcement, type Group, type GroupKind, type GroupRole, type Member, type Notification, type Post, type Visibility } from '../api/client';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { ErrorMessage, Loading } from '../components/ErrorMessage';
import { Avatar } from '../components/Avatar';
import { Latest } from '../lib/latest';
import { relativeTime } from '../lib/time';
import { PostCard } from './PostCard';
import { Composer } from './Composer';
import { GroupAbout, KindChoice, VisibilityChoice } from './GroupSettings';
import { AnnouncementCard } from './Announcements';
import { useLiveFrames, useOnResync } from '../lib/LiveContext';

/** Names of the groups I am in, for "… in Hardlopen" on home. */
function useMyGroupNames(): Map<string, string> {
  const [names, setNames] = useState(new Map<string, string>());
  useEffect(() => {
    const controller = new AbortController();
    api
      .groups({ mine: true }, controller.signal)
      .then((page) => setNames(new Map(page.items.map((group) => [group.id, group.name]))))
      .catch(() => undefined);
    return () => controller.abort();
  }, []);
  return names;
}

/** A list of posts with "more", used by home, groups and profiles. */
function PostList({
  posts,
  names,
  canModerate = false,
  next,
  onMore,
  empty,
}: {
  posts: Post[];
  names?: Map<string, string>;
  canModerate?: boolean;
  next: string | null | undefined;
  onMore: () => void;
  empty: string;
}) {
  const { t } = useI18n();
  if (posts.length === 0) return <p class="muted">{empty}</p>;
  return (
    <>
      <div class="feed">
        {posts.map((post) => (
          <PostCard key={post.id} post={post} groupName={names?.get(post.group_id)} canModerate={canModerate} />
        ))}
      </div>
      {next && (
        <button type="button" class="button-secondary" onClick={onMore}>
          {t('feed.more')}
        </button>
      )}
    </>
  );
}

export function HomePage() {
  const { t } = useI18n();
  const { person } = useSession();
  const names = useMyGroupNames();
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [announcements, setAnnouncements] = useState<Announcement[]>([]);
  const [next, setNext] = useState<string | null | undefined>(null);
  const [error, setError] = useState<unknown>(null);
  // Posts that arrived live: counted in a bar rather than pushed in under the reader's eyes.
  const [arrived, setArrived] = useState<string[]>([]);
  const load = (cursor?: string) =>
    api.homeFeed(cursor).then((page) => {
      setPosts((current) => [...(cursor ? (current ?? []) : []), ...page.items]);
      if (!cursor) {
        setAnnouncements(page.announcements);
        setArrived([]);
      }
      setNext(page.next_cursor);
    }, setError);
  const reloadAnnouncements = () =>
    api.homeFeed().then((page) => setAnnouncements(page.announcements), setError);
  useEffect(() => {
    void load();
  }, []);
  useOnResync(() => void load());
  useLiveFrames((frame) => {
    if (frame.type === 'post.created' && frame.author_id !== person?.id && !posts?.some((post) => post.id === frame.post_id))
      setArrived((current) => (current.includes(frame.post_id) ? current : [...current, frame.post_id]));
    else if (frame.type === 'post.deleted') setArrived((current) => current.filter((id) => id !== frame.post_id));
    // A new or changed announcement for me is pinned at once (my own acknowledgement is shown
    // by its card, which stays until the next visit).
    else if (frame.type === 'announcement.published' || frame.type === 'announcement.updated' || frame.type === 'announcement.reminder')
      void reloadAnnouncements();
  });
  const hr = person?.role === 'hr' || person?.role === 'admin';
  return (
    <section aria-labelledby="home-title">
      <div class="row">
        <h1 id="home-title">{t('home.title')}</h1>
        {hr && (
          <a class="button-secondary push-right" href="/announcements/new">
            {t('ann.new')}
          </a>
        )}
      </div>
      {error !== null && <ErrorMessage error={error} onRetry={() => void load()} />}
      {arrived.length > 0 && (
        <button
          type="button"
          class="new-posts"
          onClick={() => {
            void load();
            window.scrollTo({ top: 0 });
          }}
        >
          {t('home.newPosts', { count: arrived.length })}
        </button>
      )}
      {announcements.length > 0 && (
        <section aria-label={t('home.announcements')} class="pinned">
          {announcements.map((announcement) => (
            <AnnouncementCard key={announcement.id} announcement={announcement} />
          ))}
        </section>
      )}
      {posts === null ? (
        <Loading />
      ) : (
        <PostList posts={posts} names={names} next={next} onMore={() => next && void load(next)} empty={t('home.empty')} />
      )}
      <Suggestions />
    </section>
  );
}

function Suggestions() {
  const { t } = useI18n();
  const [groups, setGroups] = useState<Group[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    api.suggestedGroups(controller.signal).then((page) => setGroups(page.items), () => undefined);
    return () => controller.abort();
  }, []);
  if (groups.length === 0) return null;
  return (
    <aside class="suggestions" aria-labelledby="suggested-title">
      <h2 id="suggested-title">{t('groups.suggested')}</h2>
      <ul class="group-grid">
        {groups.map((group) => (
          <GroupTile key={group.id} group={group} />
        ))}
      </ul>
    </aside>
  );
}

function GroupTile({ group }: { group: Group }) {
  const { t } = useI18n();
  return (
    <li class="group-tile">
      {group.cover_url ? <img src={group.cover_url} alt="" class="cover-thumb" loading="lazy" /> : <span class="cover-thumb cover-blank" aria-hidden="true" />}
      <a href={`/groups/${group.id}`} class="group-name">
        {group.name}
      </a>
      <p class="muted small">
        {t(`group.kind.${group.kind}`)} · {t(`group.visibility.${group.visibility}`)} · {t('group.members', { count: group.member_count })}
      </p>
    </li>
  );
}

export function GroupsPage() {
  const { t } = useI18n();
  const { route } = useLocation();
  const [q, setQ] = useState('');
  const [kind, setKind] = useState<GroupKind | ''>('');
  const [mine, setMine] = useState(false);
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const latest = useMemo(() => new Latest(), []);
  useEffect(() => {
    latest
      .run((signal) => api.groups({ q, kind, mine }, signal))
      .then((page) => page && setGroups(page.items))
      .catch(setError);
  }, [q, kind, mine]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [newKind, setNewKind] = useState<GroupKind>('casual');
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [createError, setCreateError] = useState<unknown>(null);
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">{t('groups.title')}</h1>
      <div class="filters row">
        <label class="visually-hidden" for="group-q">
          {t('groups.search')}
        </label>
        <input id="group-q" type="search" placeholder={t('groups.search')} value={q} onInput={(event) => setQ(event.currentTarget.value)} />
        <label class="visually-hidden" for="group-kind">
          {t('groups.filterKind')}
        </label>
        <select id="group-kind" value={kind} onChange={(event) => setKind(event.currentTarget.value as GroupKind | '')}>
          <option value="">{t('groups.anyKind')}</option>
          <option value="work">{t('group.kind.work')}</option>
          <option value="casual">{t('group.kind.casual')}</option>
        </select>
        <label class="check">
          <input type="checkbox" checked={mine} onChange={(event) => setMine(event.currentTarget.checked)} />
          {t('groups.mine')}
        </label>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {groups === null ? <Loading /> : groups.length === 0 ? <p class="muted">{t('groups.none')}</p> : (
        <ul class="group-grid">
          {groups.map((group) => (
            <GroupTile key={group.id} group={group} />
          ))}
        </ul>
      )}
      <details class="create-group">
        <summary>{t('groups.create')}</summary>
        <form
          class="form"
          onSubmit={(event) => {
            event.preventDefault();
            setCreateError(null);
            api.createGroup({ name, description, kind: newKind, visibility }).then((group) => route(`/groups/${group.id}`), setCreateError);
          }}
        >
          <label for="new-group-name">{t('groups.name')}</label>
          <input id="new-group-name" required maxLength={100} value={name} onInput={(event) => setName(event.currentTarget.value)} />
          <label for="new-group-description">{t('groups.description')}</label>
          <textarea id="new-group-description" rows={3} value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
          <KindChoice id="new-group-kind" value={newKind} onChange={setNewKind} />
          <VisibilityChoice id="new-group-visibility" value={visibility} onChange={setVisibility} />
          {createError !== null && <ErrorMessage error={createError} />}
          <button type="submit">{t('groups.createSubmit')}</button>
        </form>
      </details>
    </section>
  );
}

export function GroupPage() {
  const { t } = useI18n();
  const { params } = useRoute();
  const id = params.id ?? '';
  const { route } = useLocation();
  const [group, setGroup] = useState<Group | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tab, setTab] = useState<'posts' | 'members' | 'about' | 'requests'>('posts');
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [pinned, setPinned] = useState<Post[]>([]);
  const [next, setNext] = useState<string | null | undefined>(null);
  const member = group?.my_state === 'member';
  const manager = member && (group?.my_role === 'owner' || group?.my_role === 'admin');
  const loadPosts = (cursor?: string) =>
    api.groupFeed(id, cursor).then((page) => {
      setPosts((current) => [...(cursor ? (current ?? []) : []), ...page.items]);
      if (!cursor) setPinned(page.pinned);
      setNext(page.next_cursor);
    }, () => setPosts([]));
  useEffect(() => {
    setGroup(null);
    setPosts(null);
    const controller = new AbortController();
    api.group(id, controller.signal).then(setGroup, setError);
    void loadPosts();
    return () => controller.abort();
  }, [id]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!group) return <Loading />;
  const act = (work: Promise<Group>) => work.then((next) => { setGroup(next); void loadPosts(); }, setError);
  return (
    <section aria-labelledby="group-title">
      {group.cover_url && <img class="cover" src={group.cover_url} alt="" />}
      <div class="row">
        <h1 id="group-title">{group.name}</h1>
        <span class="muted">
          {t(`group.kind.${group.kind}`)} · {t(`group.visibility.${group.visibility}`)} · {t('group.members', { count: group.member_count })}
        </span>
        <span class="push-right">
          {member ? (
            <>
              <button type="button" class="button-secondary" onClick={() => api.groupChannel(id).then((channel) => route(`/chat/${channel.id}`), setError)}>
                {t('chat.openChannel')}
              </button>{' '}
              <button type="button" class="button-secondary" onClick={() => void act(api.leave(id))}>
                {t('group.leave')}
              </button>
            </>
          ) : group.my_state === 'requested' ? (
            <span class="muted">{t('group.requested')}</span>
          ) : (
            <button type="button" onClick={() => void act(api.join(id))}>
              {group.my_state === 'invited' ? t('group.accept') : group.visibility === 'private' ? t('group.request') : t('group.join')}
            </button>
          )}
        </span>
      </div>
      <div class="prose" dangerouslySetInnerHTML={{ __html: group.description_html }} />
      {group.archived && <p class="notice">{t('group.archived')}</p>}
      <div role="tablist" class="tabs" aria-label={group.name}>
        {(['posts', 'members', 'about', ...(manager ? (['requests'] as const) : [])] as const).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} class={tab === name ? 'tab tab-on' : 'tab'} onClick={() => setTab(name)}>
            {t(`group.tab.${name}`)}
          </button>
        ))}
      </div>
      {tab === 'posts' && (
        <div role="tabpanel">
          {member && !group.archived && (group.posting === 'everyone' || manager) && <Composer groupId={id} onPosted={(post) => setPosts([post, ...(posts ?? [])])} />}
          {pinned.map((post) => (
            <PostCard key={post.id} post={post} canModerate={manager} />
          ))}
          {posts === null ? <Loading /> : (
            <PostList posts={posts} canModerate={manager} next={next} onMore={() => next && void loadPosts(next)} empty={t('group.noPosts')} />
          )}
        </div>
      )}
      {tab === 'members' && <Members groupId={id} state="member" manager={manager} />}
      {tab === 'about' && <GroupAbout group={group} manager={manager} onChanged={setGroup} />}
      {tab === 'requests' && <Members groupId={id} state="requested" manager={manager} />}
    </section>
  );
}

function Members({ groupId, state, manager }: { groupId: string; state: 'member' | 'requested'; manager: boolean }) {
  const { t } = useI18n();
  const { person } = useSession();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.members(groupId, state).then((page) => setMembers(page.items), setError);
  useEffect(() => {
    void load();
  }, [groupId, state]);
  if (!members) return error !== null ? <ErrorMessage error={error} /> : <Loading />;
  if (members.length === 0) return <p class="muted">{state === 'requested' ? t('group.noRequests') : t('group.noMembers')}</p>;
  return (
    <div role="tabpanel">
    {error !== null && <ErrorMessage error={error} />}
    <ul class="people-list">
      {members.map((member) => (
        <li key={member.person.id} class="person-row">
          <Avatar name={member.person.display_name} id={member.person.id} photoUrl={member.person.photo_url} size="small" />
          <a href={`/people/${member.person.id}`}>{member.person.display_name}</a>
          {state === 'member' && manager && member.person.id !== person?.id ? (
            <span class="push-right row">
              <label class="visually-hidden" for={`role-${member.person.id}`}>
                {t('group.roleOf', { name: member.person.display_name })}
              </label>
              <select
                id={`role-${member.person.id}`}
                value={member.role}
                onChange={(event) => {
                  setError(null);
                  api.setMemberRole(groupId, member.person.id, event.currentTarget.value as GroupRole).then(load, setError);
                }}
              >
                {(['member', 'admin', 'owner'] as const).map((role) => (
                  <option key={role} value={role}>
                    {t(`group.role.${role}`)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="button-secondary"
                onClick={() => {
                  if (window.confirm(t('group.confirmRemove', { name: member.person.display_name }))) {
                    api.removeMember(groupId, member.person.id).then(load, setError);
                  }
                }}
              >
                {t('group.remove', { name: member.person.display_name })}
              </button>
            </span>
          ) : (
            <span class="muted small">{t(`group.role.${member.role}`)}</span>
          )}
          {state === 'requested' && (
            <span class="push-right row">
              <button type="button" onClick={() => api.decide(groupId, member.person.id, true).then(load, setError)}>
                {t('group.approve', { name: member.person.display_name })}
              </button>
              <button type="button" class="button-secondary" onClick={() => api.decide(groupId, member.person.id, false).then(load, setError)}>
                {t('group.decline', { name: member.person.display_name })}
              </button>
            </span>
          )}
        </li>
      ))}
    </ul>
    </div>
  );
}

export function PostPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const [post, setPost] = useState<Post | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.post(id).then(setPost, setError);
  }, [id]);
  if (error !== null) return <ErrorMessage error={error} />;
  if (!post) return <Loading />;
  return <PostCard post={post} />;
}

/** What someone wrote that I may read, on their profile. */
export function PostsBy({ personId }: { personId: string }) {
  const { t } = useI18n();
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [next, setNext] = useState<string | null | undefined>(null);
  const load = (cursor?: string) =>
    api.postsBy(personId, cursor).then((page) => {
      setPosts((current) => [...(cursor ? (current ?? []) : []), ...page.items]);
      setNext(page.next_cursor);
    }, () => setPosts([]));
  useEffect(() => {
    void load();
  }, [personId]);
  return (
    <section aria-labelledby="posts-by">
      <h2 id="posts-by">{t('profile.posts')}</h2>
      {posts === null ? <Loading /> : <PostList posts={posts} next={next} onMore={() => next && void load(next)} empty={t('profile.noPosts')} />}
    </section>
  );
}

function describe(t: ReturnType<typeof useI18n>['t'], item: Notification): string {
  const name = item.actor?.display_name ?? '';
  const group = item.group?.name ?? '';
  const others = item.others;
  if (item.kind === 'reaction' && others === 0) return t('notification.reactionOne', { name });
  return t(`notification.${item.kind}` as Parameters<typeof t>[0], { name, group, others });
}

function target(item: Notification): string {
  if (item.post_id) return `/posts/${item.post_id}`;
  if (item.announcement_id) return `/announcements/${item.announcement_id}`;
  if (item.group) return `/groups/${item.group.id}`;
  return '/notifications';
}

export function NotificationsPage({ onRead }: { onRead?: (unread: number) => void }) {
  const { t, language } = useI18n();
  const [items, setItems] = useState<Notification[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => api.notifications().then((page) => { setItems(page.items); onRead?.(page.unread); }, setError);
  useEffect(() => {
    void load();
  }, []);
  return (
    <section aria-labelledby="notifications-title">
      <div class="row">
        <h1 id="notifications-title">{t('notifications.title')}</h1>
        <button type="button" class="button-secondary push-right" onClick={() => api.markRead().then(load, setError)}>
          {t('notifications.readAll')}
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      {items === null ? <Loading /> : items.length === 0 ? <p class="muted">{t('notifications.none')}</p> : (
        <ul class="notifications">
          {items.map((item) => (
            <li key={item.id} class={item.read ? '' : 'unread'}>
              {item.actor && <Avatar name={item.actor.display_name} id={item.actor.id} photoUrl={item.actor.photo_url} size="small" />}
              <a href={target(item)} onClick={() => void api.markRead([item.id])}>
                {describe(t, item)}
              </a>
              <time class="muted small" dateTime={item.updated_at}>
                {relativeTime(language, item.updated_at)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
