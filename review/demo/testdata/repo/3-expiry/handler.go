package shortlink

import (
	"errors"
	"net/http"
	"strings"
)

// Handler serves redirects for stored codes.
type Handler struct {
	Store *Store
}

// ServeHTTP redirects /CODE to the stored URL.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimPrefix(r.URL.Path, "/")
	l, err := h.Store.Get(code)
	if errors.Is(err, ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, ErrExpired) {
		http.Error(w, "link expired", http.StatusGone)
		return
	}
	http.Redirect(w, r, l.URL, http.StatusFound)
}
