/*
 * The test host page: a stand-in for Stash's web UI that loads PlexCourier's built UI bundle the way
 * Stash's does (reference/stash-ui-plugins.md). It sets up `window.PluginApi` with the same shape as
 * Stash's (React, ReactDOM, libraries, register, patch, components, utils, hooks, Event), asks GraphQL
 * for the enabled plugins' `paths`, loads their CSS and scripts, and only then renders the app, as
 * Stash's PluginsLoader does. The patch points the plugin uses (MainNavBar.UtilityItems,
 * SettingsToolsSection twice, ScenePage.Tabs / ScenePage.TabContent with the page's props,
 * PluginSettings with pluginID and settings, PluginRoutes) are rendered where Stash renders them.
 * Our own code throughout; the libraries Stash offers that PlexCourier does not use are empty objects.
 */
(function () {
  'use strict';
  var React = window.React;
  var ReactDOM = window.ReactDOM;
  var RR = window.ReactRouterDOM;
  var h = React.createElement;

  // ---- patching, with Stash's semantics: before → new args, instead(...args, next), after(...args, result)
  var fns = { before: {}, instead: {}, after: {} };
  var components = {};
  function add(kind) {
    return function (name, fn) {
      (fns[kind][name] = fns[kind][name] || []).push(fn);
    };
  }
  function callInstead(list, target, self, args) {
    var i = 0;
    function nextFor(k) {
      if (k >= list.length) return target;
      return function () {
        var a = Array.prototype.slice.call(arguments);
        return list[k].apply(self, a.concat(nextFor(k + 1)));
      };
    }
    return nextFor(i).apply(self, args);
  }
  function patchFunction(name, fn) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      (fns.before[name] || []).forEach(function (b) {
        args = b.apply(this, args);
      }, this);
      var result = fns.instead[name] ? callInstead(fns.instead[name], fn, this, args) : fn.apply(this, args);
      (fns.after[name] || []).forEach(function (a) {
        result = a.apply(this, args.concat([result]));
      }, this);
      return result;
    };
  }
  function PatchComponent(name, fn) {
    var patched = patchFunction(name, fn);
    components[name] = patched;
    return patched;
  }
  function PatchContainerComponent(name) {
    return PatchComponent(name, function (props) {
      return h(React.Fragment, null, props.children);
    });
  }

  var eventTarget = new EventTarget();
  var routes = [];

  window.PluginApi = {
    React: React,
    ReactDOM: ReactDOM,
    GQL: {},
    libraries: {
      ReactRouterDOM: RR,
      Bootstrap: {},
      Apollo: {},
      Intl: {},
      FontAwesomeRegular: {},
      FontAwesomeSolid: {},
      FontAwesomeBrands: {},
      Mousetrap: {},
      MousetrapPause: {},
      ReactFontAwesome: {},
      ReactSelect: {},
    },
    register: {
      route: function (path, component) {
        fns.before.PluginRoutes = fns.before.PluginRoutes || [];
        fns.before.PluginRoutes.push(function (props) {
          return [{ children: h(React.Fragment, null, props.children, h(RR.Route, { path: path, component: component })) }];
        });
        routes.push(path);
      },
      component: function (name, fn) {
        components[name] = fn;
        return fn;
      },
    },
    loadableComponents: {},
    components: components,
    utils: { InteractiveUtils: {}, NavUtils: {}, StashService: {}, loadComponents: function () { return Promise.resolve(); } },
    hooks: {
      useLoadComponents: function () { return false; },
      useToast: function () { return { success: function () {}, error: function () {} }; },
    },
    patch: { before: add('before'), instead: add('instead'), after: add('after') },
    Event: eventTarget,
  };

  function gql(query, variables) {
    return fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    })
      .then(function (r) { return r.json(); })
      .then(function (b) {
        if (b.errors && b.errors.length) throw new Error(b.errors[0].message);
        return b.data;
      });
  }

  // ---- Stash's components that carry patch points
  var MainNavBarUtilityItems = PatchComponent('MainNavBar.UtilityItems', function (props) {
    return h(React.Fragment, null, props.children);
  });
  var PluginRoutes = PatchContainerComponent('PluginRoutes');
  var SettingsToolsSection = PatchContainerComponent('SettingsToolsSection');
  var ScenePageTabs = PatchContainerComponent('ScenePage.Tabs');
  var ScenePageTabContent = PatchContainerComponent('ScenePage.TabContent');

  function Setting(props) {
    return h('div', { className: 'setting' }, h('div', null, h('h3', null, props.heading), props.subHeading ? h('div', { className: 'sub-heading' }, props.subHeading) : null), h('div', null, props.children));
  }
  components.Setting = Setting;

  // Stash's own panel: settings in the order the server gives them (sorted by key), values as stored.
  var PluginSettings = PatchComponent('PluginSettings', function (props) {
    var state = React.useState(null);
    var saved = state[0];
    var setSaved = state[1];
    React.useEffect(function () {
      gql('query { configuration { plugins(include: ["' + props.pluginID + '"]) } }').then(function (d) {
        setSaved((d.configuration.plugins || {})[props.pluginID] || {});
      });
    }, []);
    if (!saved) return null;
    return h(
      'div',
      { className: 'plugin-settings', 'data-testid': 'stash-plugin-settings-' + props.pluginID },
      props.settings.map(function (s) {
        var v = saved[s.name];
        return h(Setting, { key: s.name, heading: s.display_name || s.name, subHeading: s.description }, h('span', { className: 'value' }, v === undefined ? (s.type === 'NUMBER' ? '0' : s.type === 'BOOLEAN' ? 'off' : '') : String(v)));
      }),
    );
  });

  function Nav() {
    return h(
      'nav',
      { className: 'navbar navbar-expand navbar-dark bg-dark top-nav' },
      h(RR.Link, { to: '/', className: 'navbar-brand' }, 'Stash'),
      h('div', { className: 'navbar-nav mr-auto' },
        h(RR.NavLink, { to: '/scenes', className: 'nav-link' }, 'Scenes'),
        h(RR.NavLink, { to: '/settings', className: 'nav-link' }, 'Settings')),
      h('div', { className: 'navbar-buttons d-flex align-items-center' }, h(MainNavBarUtilityItems, null)),
    );
  }

  function ScenePage(props) {
    var id = props.match.params.id;
    var st = React.useState(null);
    var scene = st[0];
    var setScene = st[1];
    React.useEffect(function () {
      gql('query($id: ID) { findScene(id: $id) { id title details date files { path } } }', { id: id }).then(function (d) {
        setScene(d.findScene);
      });
    }, [id]);
    if (!scene) return h('div', { className: 'p-3' }, 'Loading…');
    var pageProps = { scene: scene };
    return h(
      'div',
      { className: 'row scene-page' },
      h(
        'div',
        { className: 'col-md-4 scene-tabs' },
        h('div', null, h('ul', { className: 'nav nav-tabs mr-auto' }, h(ScenePageTabs, pageProps, h('li', { className: 'nav-item' }, h('a', { className: 'nav-link active' }, 'Details')), h('li', { className: 'nav-item' }, h('a', { className: 'nav-link' }, 'Markers')), h('li', { className: 'nav-item' }, h('a', { className: 'nav-link' }, 'File Info'))))),
        h(
          'div',
          { className: 'tab-content' },
          h(ScenePageTabContent, pageProps,
            h('div', { className: 'tab-pane active scene-details' },
              h('h3', { className: 'scene-header' }, scene.title),
              h('h5', { className: 'text-muted' }, scene.date || ''),
              h('p', null, scene.details || ''),
              h('div', { className: 'small text-muted' }, scene.files.map(function (f) { return f.path; }).join(', ')))),
        ),
      ),
      h('div', { className: 'col-md-8 scene-player-container' }, h('div', { className: 'fake-player' }, '▶')),
    );
  }

  function SettingsPage(props) {
    var tab = new URLSearchParams(props.location.search).get('tab') || 'tasks';
    var st = React.useState(null);
    var plugins = st[0];
    var setPlugins = st[1];
    React.useEffect(function () {
      gql('query { plugins { id name enabled settings { name display_name description type } } }').then(function (d) {
        setPlugins(d.plugins);
      });
    }, []);
    var tabs = ['tasks', 'tools', 'plugins'];
    return h(
      'div',
      { className: 'row settings-page' },
      h('div', { className: 'col-2' }, h('div', { className: 'nav flex-column nav-pills' }, tabs.map(function (t) {
        return h(RR.Link, { key: t, to: '/settings?tab=' + t, className: 'nav-link' + (t === tab ? ' active' : '') }, t[0].toUpperCase() + t.slice(1));
      }))),
      h(
        'div',
        { className: 'col-10 settings-content' },
        tab === 'tools'
          ? h(React.Fragment, null,
              h('div', { className: 'setting-section' }, h('h1', null, 'Tools'), h('div', { className: 'card' }, h(SettingsToolsSection, null, h(Setting, { heading: h('a', { href: '/playground' }, h('button', { className: 'btn btn-primary' }, 'GraphQL playground')) })))),
              h('div', { className: 'setting-section' }, h('h1', null, 'Scene Tools'), h('div', { className: 'card' }, h(SettingsToolsSection, null, h(Setting, { heading: h(RR.Link, { to: '/sceneFilenameParser' }, h('button', { className: 'btn btn-primary' }, 'Scene Filename Parser')) })))))
          : tab === 'plugins'
            ? h('div', null, h('h1', null, 'Plugins'), (plugins || []).map(function (p) {
                return h('div', { className: 'setting-section', key: p.id, 'data-plugin': p.id }, h('h1', null, p.name), h('div', { className: 'card plugin-card' }, h(PluginSettings, { pluginID: p.id, settings: p.settings || [] })));
              }))
            : h('div', null, h('h1', null, 'Tasks')),
      ),
    );
  }

  function NotFound() {
    return h('h1', { className: 'p-3', 'data-testid': 'not-found' }, 'Page not found');
  }

  function LocationEvents() {
    var location = RR.useLocation();
    React.useEffect(function () {
      eventTarget.dispatchEvent(new CustomEvent('stash:location', { detail: { data: { location: location } } }));
    }, [location.pathname, location.search]);
    return null;
  }

  function App() {
    return h(
      RR.BrowserRouter,
      null,
      h(LocationEvents),
      h(Nav),
      h(
        'div',
        { className: 'main container-fluid' },
        h(RR.Switch, null,
          h(RR.Route, { exact: true, path: '/', render: function () { return h('h1', { className: 'p-3' }, 'Stash'); } }),
          h(RR.Route, { path: '/scenes/:id', component: ScenePage }),
          h(RR.Route, { path: '/settings', component: SettingsPage }),
          h(PluginRoutes),
        ),
        // Stash ends its Switch with a not-found route after PluginRoutes; here a route matched by no one shows it.
        h(RR.Route, { render: function (p) {
          var known = /^\/($|scenes\/|settings)/.test(p.location.pathname) || routes.some(function (r) { return p.location.pathname.indexOf(r) === 0; });
          return known ? null : h(NotFound);
        } }),
      ),
    );
  }

  function load(tag, attrs) {
    return new Promise(function (resolve) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { el[k] = attrs[k]; });
      el.onload = resolve;
      el.onerror = resolve; // Stash renders the UI whether or not a plugin's file loaded
      document.head.appendChild(el);
    });
  }

  gql('query { plugins { id enabled paths { javascript css } } }')
    .then(function (d) {
      var enabled = d.plugins.filter(function (p) { return p.enabled; });
      var css = [].concat.apply([], enabled.map(function (p) { return p.paths.css || []; }));
      var js = [].concat.apply([], enabled.map(function (p) { return p.paths.javascript || []; }));
      css.forEach(function (href) { load('link', { rel: 'stylesheet', href: href }); });
      return js.reduce(function (prev, src) { return prev.then(function () { return load('script', { src: src }); }); }, Promise.resolve());
    })
    .then(function () {
      ReactDOM.render(h(App), document.getElementById('root'));
      window.__hostReady = true;
    });
})();
