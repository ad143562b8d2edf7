// The Plex path index: the index itself, its file, and the paging walk that fills it.
export { PathIndex, Rec, toRec, type IndexEntry, type IndexedFile } from './path-index';
export { indexSection, refreshSection, listByFile, entryFromListItem, MAX_PAGE_SIZE, type WalkStats } from './walk';
