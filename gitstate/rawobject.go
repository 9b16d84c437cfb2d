package gitstate

import "fmt"

// RawObject reads one object as git stores it: its type ("commit", "tree",
// "blob" or "tag") and its content without the "<type> <size>" header. Writing
// the same type and bytes back gives the same object ID.
func (r *Repo) RawObject(id string) (typ string, data []byte, err error) {
	var info objectInfo
	err = r.objects([]string{id}, func(_ int, in objectInfo, content []byte) error {
		info, data = in, content
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("read object %s: %w", id, err)
	}
	if info.Missing {
		return "", nil, fmt.Errorf("read object %s: %w", id, ErrObjectMissing)
	}
	return info.Type, data, nil
}
