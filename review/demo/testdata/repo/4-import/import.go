package shortlink

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// ImportHandler accepts a JSON array of links and stores them all.
type ImportHandler struct {
	Store *Store
}

// ServeHTTP handles POST /import with a body like [{"code":"go","url":"https://go.dev"}].
func (h *ImportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var links []Link
	json.Unmarshal(body, &links)
	for _, l := range links {
		h.Store.links[l.Code] = l
	}
	fmt.Fprintf(w, "imported %d links\n", len(links))
}
