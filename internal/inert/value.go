package inert

import (
	"reflect"
)

// Value returns v with Text applied to every string it holds: the fields
// of structs (exported ones: unexported fields are the holder's own state,
// not data from outside), the elements of slices and arrays, map keys and
// values, what pointers point to, and the text of errors. Nothing is
// written in place: a part that changes is copied, a part that does not is
// shared, so a clean value (the usual case) costs a walk and no copy, and
// the caller's value, which may be shared with the model, never changes.
//
// An error whose text changes is replaced by one that reports the inert
// text and unwraps to the original, so errors.Is and errors.As still see
// it. Any other interface value is walked when it holds data (a string,
// struct, slice, array or map; a message of Bubble Tea is one) and left
// alone when it holds a pointer, a function or a channel: those are
// handles (a context, a client), not text. Functions and channels are
// never touched.
//
// When two map keys become the same text, one of them is kept: a view
// cannot tell apart two names that look the same anyway.
func Value[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	w := walker{}
	if out, changed := w.walk(rv); changed {
		return out.Interface().(T)
	}
	return v
}

// walker remembers each pointer it walked and what it became, so a value
// reached twice is copied once and a cycle ends.
type walker struct {
	seen map[uintptr]*reflect.Value
}

var errorType = reflect.TypeFor[error]()

// walk returns v's inert copy and whether it differs; when it does not,
// the returned value is v itself.
func (w *walker) walk(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if IsInert(s) {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(Text(s))
		return out, true
	case reflect.Struct:
		return w.walkStruct(v)
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			// []byte is data, not text: it is never drawn as it is.
			return v, false
		}
		return w.walkElems(v, func() reflect.Value {
			out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(out, v)
			return out
		})
	case reflect.Array:
		return w.walkElems(v, func() reflect.Value {
			out := reflect.New(v.Type()).Elem()
			out.Set(v)
			return out
		})
	case reflect.Map:
		if v.IsNil() || !w.mapDirty(v) {
			return v, false
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k, _ := w.walk(it.Key())
			e, _ := w.walk(it.Value())
			out.SetMapIndex(k, e)
		}
		return out, true
	case reflect.Pointer:
		return w.walkPointer(v)
	case reflect.Interface:
		return w.walkInterface(v)
	}
	return v, false
}

// walkStruct copies a struct only when a field changes.
func (w *walker) walkStruct(v reflect.Value) (reflect.Value, bool) {
	var out reflect.Value
	for i := range v.NumField() {
		// CanInterface is false for an unexported field; unlike
		// Type().Field(i) it allocates nothing, and this walk runs over
		// every container of a snapshot.
		if !v.Field(i).CanInterface() {
			continue
		}
		f, changed := w.walk(v.Field(i))
		if !changed {
			continue
		}
		if !out.IsValid() {
			out = reflect.New(v.Type()).Elem()
			out.Set(v)
		}
		out.Field(i).Set(f)
	}
	if out.IsValid() {
		return out, true
	}
	return v, false
}

// walkElems walks a slice's or an array's elements; clone makes the copy
// of v, only when an element changes.
func (w *walker) walkElems(v reflect.Value, clone func() reflect.Value) (reflect.Value, bool) {
	var out reflect.Value
	for i := range v.Len() {
		e, changed := w.walk(v.Index(i))
		if !changed {
			continue
		}
		if !out.IsValid() {
			out = clone()
		}
		out.Index(i).Set(e)
	}
	if out.IsValid() {
		return out, true
	}
	return v, false
}

func (w *walker) walkPointer(v reflect.Value) (reflect.Value, bool) {
	if v.IsNil() {
		return v, false
	}
	p := v.Pointer()
	if done, ok := w.seen[p]; ok {
		// nil: still being walked (a cycle); the copy made on the
		// way back up holds the inert value.
		if done == nil || !done.IsValid() {
			return v, false
		}
		return *done, true
	}
	if w.seen == nil {
		w.seen = map[uintptr]*reflect.Value{}
	}
	w.seen[p] = nil
	e, changed := w.walk(v.Elem())
	if !changed {
		w.seen[p] = &reflect.Value{}
		return v, false
	}
	out := reflect.New(v.Type().Elem())
	out.Elem().Set(e)
	w.seen[p] = &out
	return out, true
}

func (w *walker) walkInterface(v reflect.Value) (reflect.Value, bool) {
	if v.IsNil() {
		return v, false
	}
	if v.Type().Implements(errorType) {
		err, ok := v.Elem().Interface().(error)
		if !ok || IsInert(err.Error()) {
			return v, false
		}
		if !reflect.TypeFor[*inertError]().AssignableTo(v.Type()) {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(reflect.ValueOf(&inertError{raw: err, text: Text(err.Error())}))
		return out, true
	}
	switch v.Elem().Kind() {
	case reflect.String, reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
	default:
		return v, false
	}
	e, changed := w.walk(v.Elem())
	if !changed {
		return v, false
	}
	out := reflect.New(v.Type()).Elem()
	out.Set(e)
	return out, true
}

// mapDirty says whether a map holds a key or value to make inert; it
// reads the entries into two reused values, so a clean map (labels, the
// usual case) costs no allocation per entry.
func (w *walker) mapDirty(v reflect.Value) bool {
	if m, ok := v.Interface().(map[string]string); ok {
		for k, e := range m {
			if !IsInert(k) || !IsInert(e) {
				return true
			}
		}
		return false
	}
	k := reflect.New(v.Type().Key()).Elem()
	e := reflect.New(v.Type().Elem()).Elem()
	for it := v.MapRange(); it.Next(); {
		k.SetIterKey(it)
		e.SetIterValue(it)
		if _, changed := w.walk(k); changed {
			return true
		}
		if _, changed := w.walk(e); changed {
			return true
		}
	}
	return false
}

// inertError is an error whose text was made inert; it unwraps to the
// original so errors.Is and errors.As keep working.
type inertError struct {
	raw  error
	text string
}

func (e *inertError) Error() string { return e.text }
func (e *inertError) Unwrap() error { return e.raw }

// Err returns err with its text made inert (nil for nil); errors.Is and
// errors.As see through it to the original.
func Err(err error) error {
	if err == nil || IsInert(err.Error()) {
		return err
	}
	return &inertError{raw: err, text: Text(err.Error())}
}
