%# The knowledge-base search box, for any page to include (with "kb_search.js" among its scripts):
%# without script it is a plain search form for /kb; with it, hits show below the box as one types.
<form class="kb-search" method="get" action="/kb" role="search" data-kb-search>
  <label class="field">
    <span>{{_("Search the knowledge base")}}</span>
    <input type="search" name="q" value="{{get('q', '')}}" maxlength="200" autocomplete="off"
           placeholder="{{_("e.g. 退货, invoice, repair")}}" aria-controls="kb-hits-{{get('box_id', 'main')}}">
  </label>
  <button class="btn" type="submit">{{_("Search")}}</button>
  <div class="kb-hits" id="kb-hits-{{get('box_id', 'main')}}" aria-live="polite" hidden></div>
</form>
