// An 8-bit counter with synchronous reset and enable, and a small FSM that watches it: enough for
// yosys's proc, fsm, memory, techmap and abc passes to each have work.
module counter(input clk, input rst, input en, output reg [7:0] q, output wrap);
  always @(posedge clk)
    if (rst) q <= 8'd0;
    else if (en) q <= q + 8'd1;
  assign wrap = en && (q == 8'hff);
endmodule

module watcher(input clk, input rst, input en, output reg [1:0] state, output alarm);
  wire [7:0] count;
  wire wrap;
  counter c(.clk(clk), .rst(rst), .en(en), .q(count), .wrap(wrap));
  localparam IDLE = 2'd0, RUN = 2'd1, HIGH = 2'd2, DONE = 2'd3;
  reg [3:0] table_ [0:3];
  initial begin
    table_[0] = 4'h1; table_[1] = 4'h3; table_[2] = 4'h7; table_[3] = 4'hf;
  end
  always @(posedge clk)
    if (rst) state <= IDLE;
    else case (state)
      IDLE: if (en) state <= RUN;
      RUN: if (count[7]) state <= HIGH;
      HIGH: if (wrap) state <= DONE;
      DONE: state <= IDLE;
    endcase
  assign alarm = table_[state][3] & count[0];
endmodule
