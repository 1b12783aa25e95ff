% # The reports' sub-navigation on the staffing and scheduled-report pages: the report families first.
<nav class="subnav" aria-label="{{_("Reports")}}">
  % for r in report_tabs:
  <a href="/reports/{{r.name}}">{{_(r.title)}}</a>
  % end
  % include('report_links', here=here)
</nav>
