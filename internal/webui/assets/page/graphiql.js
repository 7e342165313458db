// The GraphiQL page's script (internal/webui, GraphiQL), in a file so that the page's
// Content-Security-Policy allows no inline script. It reads its settings from the JSON
// block #graphiql-config and mounts GraphiQL 4 in #graphiql.
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('graphiql-config').textContent);

  // GraphiQL's dialogs add <style> elements at run time (react-remove-scroll) and give
  // them this nonce when it is set; the page's policy allows styles with it.
  window.__webpack_nonce__ = config.styleNonce;

  let url, subscriptionUrl;
  if (config.subscriptionEndpoint) {
    url = config.endpoint;
    subscriptionUrl = config.subscriptionEndpoint;
  } else {
    const wsProto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url = location.protocol + '//' + location.host + config.endpoint;
    subscriptionUrl = wsProto + '//' + location.host + config.endpoint;
  }

  // The query, its variables and its operation name live in the URL, so that a link such
  // as /?query={clients{totalCount}} opens with that query. Headers never do: they hold
  // the API token (README, "Operating notes"), and a URL ends up in the history, in logs
  // and in links people share. A headers parameter of an older link is dropped at once.
  const parameters = Object.fromEntries(new URLSearchParams(location.search));
  delete parameters.headers;

  function updateURL() {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(parameters)) {
      if (value) {
        search.set(key, value);
      }
    }
    const query = search.toString();
    history.replaceState(history.state, '', location.pathname + (query ? '?' + query : '') + location.hash);
  }
  updateURL();

  function onEdit(key) {
    return function (value) {
      parameters[key] = value;
      updateURL();
    };
  }

  // GraphiQL keeps its tabs, its query history and its favourites in localStorage under
  // "graphiql:", and GraphiQL 4.1.2 writes each history entry with its headers whatever
  // shouldPersistHeaders says. This storage drops every "headers" property of what
  // GraphiQL writes, and the headers entry itself; what the tab holds in memory keeps
  // them, so the history still works until the page is closed.
  const namespace = 'graphiql:';
  function withoutHeaders(value) {
    let parsed;
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
    if (parsed === null || typeof parsed !== 'object') {
      return value;
    }
    return JSON.stringify(parsed, (key, v) => (key === 'headers' ? undefined : v));
  }
  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem(key, value) {
      if (key === namespace + 'headers') {
        localStorage.removeItem(key);
        return;
      }
      localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: (key) => localStorage.removeItem(key),
    // GraphiQL's "clear storage" removes its own entries only, as its default does.
    clear() {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith(namespace)) {
          localStorage.removeItem(key);
        }
      }
    },
    get length() {
      return Object.keys(localStorage).filter((key) => key.startsWith(namespace)).length;
    },
  };
  // Entries an older version of the page wrote with their headers. (Where the browser
  // refuses the page its storage, GraphiQL does without.)
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(namespace)) {
        storage.setItem(key, localStorage.getItem(key));
      }
    }
  } catch (e) {
    console.warn('GraphiQL: no localStorage:', e);
  }

  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url, subscriptionUrl }),
      query: parameters.query,
      variables: parameters.variables,
      operationName: parameters.operationName,
      onEditQuery: onEdit('query'),
      onEditVariables: onEdit('variables'),
      onEditOperationName: onEdit('operationName'),
      isHeadersEditorEnabled: true,
      // Headers stay in the tab's memory: not in localStorage either (see storage).
      shouldPersistHeaders: false,
      storage: storage,
      inputValueDeprecation: true,
    }),
  );
})();
