// Polls a running chain integrity check and shows its progress; no framework, no network but
// this platform's own JSON endpoint.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.state !== "running") return;
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var result = document.getElementById("result");

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function show(job) {
    bar.max = job.head || 1;
    bar.value = job.checked;
    text.innerHTML = "已校验 " + job.checked + " / " + (job.head || "?") +
      ' 个区块 <span class="en">blocks verified</span>';
    box.dataset.state = job.state;
    if (job.state === "passed") {
      var r = job.report;
      result.innerHTML = '<p class="ok"><strong>✔ 校验通过</strong> <span class="en">The chain verifies</span>: ' +
        r.blocks + " 个区块 blocks, " + r.transactions + " 笔交易 transactions, " + r.seals +
        " 个签名 seals; head <code>" + esc(r.head_hash) + "</code></p>";
    } else if (job.state === "failed") {
      result.innerHTML = '<p class="error"><strong>✘ 校验失败：第一个有问题的区块 #<span id="bad-block">' +
        job.bad_block + '</span></strong> <span class="en">Verification failed at block #' + job.bad_block +
        "</span>: " + esc(job.reason) + "</p>";
    } else if (job.state === "error") {
      result.innerHTML = '<p class="error"><strong>无法完成校验 <span class="en">Could not check</span></strong>: ' +
        esc(job.reason) + "</p>";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        show(job);
        if (job.state === "running") setTimeout(poll, 300);
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
