package api

import (
	"strings"
	"time"
)

// Paging, shared by every list: a list is ordered by a key (a time, then
// an id, ascending or as storage returns it), read one item beyond the
// limit, and cut by page, which makes the next page's cursor from the
// last item given. Lists read whole (members, clients) skip what a
// cursor already gave with after.

// pageKey is the key a list is ordered by: a time (zero when the list is
// ordered by id alone) and an id.
type pageKey[T any] func(T) (time.Time, string)

// page cuts a list read with limit+1 items: the first limit of them, and
// the cursor of the next page when there was one more.
func page[T any](list []T, limit int, name string, key pageKey[T]) ([]T, *string) {
	if len(list) <= limit {
		return list, nil
	}
	list = list[:limit]
	at, id := key(list[len(list)-1])
	return list, makeCursor(name, at, id)
}

// after is what follows the cursor's item in a list ordered by key,
// ascending (all of it on the first page).
func after[T any](list []T, c cursor, key pageKey[T]) []T {
	if c.ID == "" {
		return list
	}
	at := c.at()
	for i, v := range list {
		t, id := key(v)
		if t.After(at) || t.Equal(at) && strings.Compare(id, c.ID) > 0 {
			return list[i:]
		}
	}
	return nil
}

// each converts the items of a page into their representation (an empty
// page is [], never null).
func each[T, R any](list []T, to func(T) R) []R {
	out := make([]R, 0, len(list))
	for _, v := range list {
		out = append(out, to(v))
	}
	return out
}

func same[T any](v T) T { return v }
