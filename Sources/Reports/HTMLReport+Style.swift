import Numerics
import Model
import Formats
import Exercises
import Grading

/// The report's stylesheet: layout, tables, and the heatmap shade classes (`a0`…`a10` attention,
/// `p1`…`p10` positive and `n1`…`n10` negative circuit entries).
extension HTMLReport {
    package static let style = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#111;background:#fff}
        h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em;margin-top:1.2em}
        .meta{color:#555}.verdict{font-size:.8em;padding:.1em .5em;border-radius:.3em;color:#fff}
        .verdict.pass{background:#2a7d46}.verdict.fail{background:#b3261e}.verdict.exploratory{background:#8a6d00}.verdict.error{background:#555}
        .exploratory{color:#8a6d00}.error{color:#b3261e}
        table{border-collapse:collapse;margin:.4em 0}th,td{padding:.15em .4em}
        table.families td,table.families th,table.logits td,table.logits th,table.composition td,table.composition th{border:1px solid #ddd;text-align:left}
        table.families tr.fail td:nth-child(2),td.fail{color:#b3261e;font-weight:bold}td.pass{color:#2a7d46}
        caption{text-align:left;font-weight:bold;padding:.2em 0}
        .maps{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
        table.heatmap{font:11px/1.2 ui-monospace,Menlo,Consolas,monospace}
        table.heatmap td{width:2.6em;height:1.6em;text-align:center;border:1px solid #fff;cursor:default}
        table.heatmap th{font-weight:normal;color:#444;white-space:nowrap}table.heatmap th.col{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left}
        table.heatmap td:hover{outline:2px solid #000}td.masked{background:repeating-linear-gradient(45deg,#f4f4f4,#f4f4f4 3px,#e8e8e8 3px,#e8e8e8 6px)}
        table.heatmap tr.focus th{font-weight:bold;color:#000;background:#ffe9a8}
        details.case{margin:.6em 0;padding:.4em .6em;border:1px solid #ddd;border-radius:.3em}details.case summary{cursor:pointer}
        p.zero{color:#777;font-style:italic}td.closest{color:#777}
        .a0{background:hsl(212,70%,98%);color:#111} .a1{background:hsl(212,70%,92%);color:#111} .a2{background:hsl(212,70%,86%);color:#111}
        .a3{background:hsl(212,70%,79%);color:#111} .a4{background:hsl(212,70%,73%);color:#111} .a5{background:hsl(212,70%,67%);color:#111}
        .a6{background:hsl(212,70%,61%);color:#111} .a7{background:hsl(212,70%,55%);color:#fff} .a8{background:hsl(212,70%,48%);color:#fff}
        .a9{background:hsl(212,70%,42%);color:#fff} .a10{background:hsl(212,70%,36%);color:#fff}
        .p1{background:hsl(150,55%,90%);color:#111} .p2{background:hsl(150,55%,85%);color:#111} .p3{background:hsl(150,55%,79%);color:#111}
        .p4{background:hsl(150,55%,74%);color:#111} .p5{background:hsl(150,55%,68%);color:#111}
        .p6{background:hsl(150,55%,62%);color:#111} .p7{background:hsl(150,55%,57%);color:#111} .p8{background:hsl(150,55%,51%);color:#fff}
        .p9{background:hsl(150,55%,46%);color:#fff} .p10{background:hsl(150,55%,40%);color:#fff}
        .n1{background:hsl(5,70%,90%);color:#111} .n2{background:hsl(5,70%,85%);color:#111} .n3{background:hsl(5,70%,79%);color:#111}
        .n4{background:hsl(5,70%,74%);color:#111} .n5{background:hsl(5,70%,68%);color:#111}
        .n6{background:hsl(5,70%,62%);color:#111} .n7{background:hsl(5,70%,57%);color:#111} .n8{background:hsl(5,70%,51%);color:#fff}
        .n9{background:hsl(5,70%,46%);color:#fff} .n10{background:hsl(5,70%,40%);color:#fff}
        """
}
