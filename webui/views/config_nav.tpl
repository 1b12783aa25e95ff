<nav class="subnav" aria-label="{{_('Configuration')}}">
  % for p in parts.values():
  <a href="/config/{{p.name}}" class="{{'active' if part is not None and p.name == part.name else ''}}">{{_(p.title)}}</a>
  % end
  <a href="/config/vip" class="{{'active' if part is None else ''}}">{{_("VIP customers")}}</a>
</nav>
