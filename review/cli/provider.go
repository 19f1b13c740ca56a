package cli

import (
	"time"

	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/llm/providers"
)

// live makes a live provider model for spec with key at baseURL ("" is the
// provider's own); api picks Responses or Chat Completions for the OpenAI
// kinds ("" is the provider's default).
func (f modelFactory) live(spec llm.Spec, key, baseURL, api string) (llm.Model, error) {
	return providers.New(spec, providers.Options{
		APIKey:         key,
		BaseURL:        baseURL,
		API:            api,
		HTTPClient:     f.http,
		RequestTimeout: 10 * time.Minute,
	})
}
