% rebase('layout', main_class='page page-wide')
<div class="page-head">
  <h1>{{_("Report definitions")}}</h1>
  <p class="muted">{{_("How every figure of the reports is counted. Times are the box's local time; a call belongs to the period it arrived in, a ticket to the period it was created in.")}}</p>
</div>
<nav class="subnav" aria-label="{{_("Reports")}}">
  % for r in reports:
  <a href="/reports/{{r.name}}">{{_(r.title)}}</a>
  % end
</nav>
% for report, tables in built:
<section class="panel" id="report-{{report.name}}">
  <h2>{{_(report.title)}}</h2>
  <div class="panel-body">
  % for t in tables:
    <h3>{{_(t.title)}}</h3>
    <dl class="report-terms">
      % for c in t.columns:
      % if c.definition:
      <dt>{{_(c.label)}}</dt><dd>{{_(c.definition)}}</dd>
      % end
      % end
    </dl>
  % end
  </div>
</section>
% end
