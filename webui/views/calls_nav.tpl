% # Calls and their recordings are one place in the top bar for those who see both (the bar fits 1280 pixels).
% if can_see_records and get('can_see_recordings'):
<nav class="subnav" aria-label="{{_('Calls')}}">
  <a href="/calls" class="{{'active' if get('active_tab') == 'calls' else ''}}">{{_("Call records")}}</a>
  <a href="/recordings" class="{{'active' if get('active_tab') == 'recordings' else ''}}">{{_("Recordings")}}</a>
</nav>
% end
