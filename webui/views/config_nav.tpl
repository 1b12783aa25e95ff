<nav class="subnav" aria-label="{{_('Configuration')}}">
  % for p in parts.values():
  <a href="/config/{{p.name}}" class="{{'active' if p.name == part.name else ''}}">{{_(p.title)}}</a>
  % end
</nav>
