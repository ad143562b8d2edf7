import { stashSceneSchema, type StashScene } from '../../src/stash/scene';

/** A fully identified scene as Stash's GraphQL returns it, validated by the real schema. */
export function identifiedScene(overrides: Record<string, unknown> = {}): StashScene {
  return stashSceneSchema.parse({
    id: '42',
    title: 'Sunset Session',
    code: 'ABC-123',
    details: 'Two friends\r\nwatch the sun go down.',
    director: 'Jane Doe',
    urls: ['https://example.com/scene/42'],
    date: '2023-06-15',
    rating100: 85,
    organized: false,
    created_at: '2024-01-01T10:00:00Z',
    updated_at: '2024-02-01T10:00:00Z',
    studio: { id: '7', name: 'Beach Films', parent_studio: { id: '3', name: 'Coast Network' } },
    performers: [
      { id: '1', name: 'Ann Example', disambiguation: 'US' },
      { id: '2', name: 'Bo Sample', disambiguation: null },
    ],
    tags: [
      { id: '10', name: 'Outdoor' },
      { id: '11', name: 'Sunset' },
    ],
    groups: [{ group: { id: '5', name: 'Summer Series' }, scene_index: 2 }],
    files: [{ id: '99', path: '/data/videos/Sunset.Session.1080p.mp4', basename: 'Sunset.Session.1080p.mp4', size: 123456, duration: 600 }],
    paths: { screenshot: 'http://stash:9999/scene/42/screenshot?t=1700000000' },
    stash_ids: [{ endpoint: 'https://stashdb.org/graphql', stash_id: 'c0ffee' }],
    ...overrides,
  });
}

/** A scene just created by a scan: nothing but its file. */
export function scannedScene(overrides: Record<string, unknown> = {}): StashScene {
  return stashSceneSchema.parse({
    id: '43',
    title: null,
    code: null,
    details: null,
    director: null,
    urls: [],
    date: null,
    rating100: null,
    organized: false,
    created_at: '2024-01-01T10:00:00Z',
    updated_at: '2024-01-01T10:00:00Z',
    studio: null,
    performers: [],
    tags: [],
    groups: [],
    files: [{ id: '100', path: '/data/new/clip_0007.mkv', basename: 'clip_0007.mkv', size: 1000, duration: 60 }],
    paths: { screenshot: 'http://stash:9999/scene/43/screenshot?t=1' },
    stash_ids: [],
    ...overrides,
  });
}
