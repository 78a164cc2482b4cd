// Package watch defines setpoint's watch events and revision-ordered streams,
// the Broadcaster that fans one upstream watch out to many subscribers (a
// watch cache), and the JSON-lines wire encoding of events.
//
// # Contract
//
// A Watcher delivers events in revision order, none skipped and none
// repeated, or the stream ends with an error. Revisions are strictly
// increasing, except that a Bookmark may repeat the revision of the event
// before it. When the Events channel closes, Err says why, and is never nil:
//
//   - ErrGone (for example a *GoneError, or a *StatusError with code 410):
//     the start revision was compacted, or fell out of a broadcaster's
//     window, or the broadcaster's own source was compacted past it. The
//     caller must relist and watch again from the list's revision.
//   - ErrTooSlow: the consumer stopped keeping up (it took no event while
//     its buffer's worth more arrived, or fell out of a broadcaster's window)
//     and was cut off rather than buffered without bound. Every event before
//     the cut was delivered; the caller may watch again after the last
//     revision it processed (relisting if that fails with ErrGone).
//   - ErrStopped: the consumer called Stop.
//   - ErrClosed: the source shut down (a broadcaster whose Run ended).
//   - the context's error, when the watch's context ended.
//
// # Broadcaster
//
// A Broadcaster reads one Source and keeps its last Window events in a shared
// ring. The window is complete from a revision W on (Broadcaster.Window): a
// subscriber may start after any revision >= W, even though revisions are
// not contiguous (etcd revisions are global across keys); an older start
// fails with a *GoneError naming W. Each subscriber has its own goroutine and
// position in the ring, so a slow one never delays the others or the source.
// When the source stream breaks, the broadcaster reopens it after the last
// revision it has seen; when the source reports ErrGone, Run ends every
// subscriber with that error and returns it.
//
// # Wire encoding
//
// Events travel as one JSON object per line, as Kubernetes watch streams do:
//
//	{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"12"}}}
//	{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}}
//	{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"...","reason":"Expired","code":410}}
//
// An event's revision is its object's metadata.resourceVersion. Encoder
// writes this format; Decoder reads it and rejects a malformed line with a
// *DecodeError naming the line and what was wrong; DecodeEvent turns a line
// into a typed Event, mapping a 410 Status to ErrGone. EncodeStream serves a
// Watcher over an http.ResponseWriter (ending with an ERROR event when the
// watch fails) and DecodeStream turns a response body back into a Watcher.
package watch
