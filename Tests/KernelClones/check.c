/* Compares the kernels with plain loops; run natively and under qemu with a pre-AVX CPU to
   exercise both target_clones builds. */
#include "gf_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
static double rnd(void){ return rand()/(double)RAND_MAX*2-1; }
static double act(int a,double v){ return a==0? (v>0?v:0) : a==1? (v>0?v:0.2*v) : a==2? tanh(v) : v; }
static double dm(int a,double m,double v){ return a==0? (m>0?v:0) : a==1? (m>0?v:0.2*v) : a==2? (1-m*m)*v : v; }
static int check(void){
  int shapes[][3]={{1,1,1},{7,3,5},{8,16,16},{5,2,16},{9,16,1},{6,16,2},{3,21,37},{512,16,16},{31,16,16},{19,7,16}};
  double worst=0; long checks=0;
  for(int si=0;si<(int)(sizeof shapes/sizeof shapes[0]);si++){ int m=shapes[si][0],k=shapes[si][1],n=shapes[si][2];
    double *x=malloc(8*m*k),*w=malloc(8*n*k),*b=malloc(8*n),*mask=malloc(8*m*n),*prior=malloc(8*m*n),*rs=malloc(8*m);
    double *out=malloc(8*m*n),*out2=malloc(8*m*n),*plain=malloc(8*m*n),*sc=malloc(8*gf_scratch_count(k,n));
    for(int i=0;i<m*k;i++)x[i]=rnd(); for(int i=0;i<n*k;i++)w[i]=rnd(); for(int i=0;i<n;i++)b[i]=rnd();
    for(int i=0;i<m*n;i++){mask[i]=0.9*tanh(3*rnd()); prior[i]=rnd();} for(int i=0;i<m;i++)rs[i]=rnd();
    for(int T=0;T<2;T++){
      for(int r=0;r<m;r++)for(int c=0;c<n;c++){double s=0;for(int j=0;j<k;j++)s+=x[r*k+j]*(T?w[c*k+j]:w[j*n+c]);plain[r*n+c]=s;}
      for(int acc=0;acc<2;acc++)for(int S=0;S<2;S++)for(int B=0;B<(T?2:1);B++)for(int e=0;e<4;e++)for(int a=0;a<4;a++){
        for(int i=0;i<m*n;i++){out[i]=prior[i];out2[i]=NAN;}
        if(T) gf_dense_nt(m,k,n,x,w,B?b:NULL,S?rs:NULL,acc,out,e,a,0.2,mask,out2,sc);
        else gf_dense_nn(m,k,n,x,w,S?rs:NULL,acc,out,e,a,0.2,mask,out2,sc);
        for(int i=0;i<m*n;i++){ double v=plain[i]; if(B)v+=b[i%n]; if(S)v*=rs[i/n]; if(acc)v+=prior[i];
          double o1 = e==1? act(a,v) : e==3? dm(a,mask[i],v) : v;
          double d=fabs(out[i]-o1)/fmax(1,fabs(o1)); if(d>worst)worst=d; checks++;
          if(e==2){ double o2=dm(a,mask[i],v); d=fabs(out2[i]-o2)/fmax(1,fabs(o2)); if(d>worst)worst=d; checks++; } } }
    }
    /* Pairs: out = s ⊙ ([bias +] X·B) + X2·B2 with K2 = K + 3, plain epilogue. */
    { int k2=k+3; double *x2=malloc(8*m*k2),*w2=malloc(8*n*k2),*sc2=malloc(8*gf_scratch_count(k2,n));
      for(int i=0;i<m*k2;i++)x2[i]=rnd(); for(int i=0;i<n*k2;i++)w2[i]=rnd();
      for(int T=0;T<2;T++)for(int S=0;S<2;S++)for(int B=0;B<(T?2:1);B++){
        if(T) gf_dense_nt_pair(m,k,n,x,w,B?b:NULL,S?rs:NULL,k2,x2,w2,out,0,3,0.2,NULL,NULL,sc2);
        else gf_dense_nn_pair(m,k,n,x,w,S?rs:NULL,k2,x2,w2,out,0,3,0.2,NULL,NULL,sc2);
        for(int r=0;r<m;r++)for(int c=0;c<n;c++){ double p1=0,p2=0;
          for(int j=0;j<k;j++)p1+=x[r*k+j]*(T?w[c*k+j]:w[j*n+c]);
          for(int j=0;j<k2;j++)p2+=x2[r*k2+j]*(T?w2[c*k2+j]:w2[j*n+c]);
          double v=(S?rs[r]:1)*(p1+(B?b[c]:0))+p2, d=fabs(out[r*n+c]-v)/fmax(1,fabs(v)); if(d>worst)worst=d; checks++; } }
      free(x2); free(w2); free(sc2); }
    for(int S=0;S<2;S++){ double *g=malloc(8*n*k),*gb=malloc(8*n),*eg=malloc(8*n*k),*eb=malloc(8*n),*d=malloc(8*m*n),*aa=malloc(8*m*k);
      for(int i=0;i<m*n;i++)d[i]=rnd(); for(int i=0;i<m*k;i++)aa[i]=rnd();
      for(int i=0;i<n*k;i++)g[i]=eg[i]=rnd(); for(int i=0;i<n;i++)gb[i]=eb[i]=rnd();
      gf_dense_tn(m,n,k,d,aa,S?rs:NULL,0.5,g,gb,sc);
      for(int i=0;i<n;i++)for(int r=0;r<m;r++){double f=S?rs[r]:1; for(int j=0;j<k;j++)eg[i*k+j]+=0.5*f*d[r*n+i]*aa[r*k+j]; eb[i]+=0.5*f*d[r*n+i];}
      for(int i=0;i<n*k;i++){double q=fabs(g[i]-eg[i])/fmax(1,fabs(eg[i])); if(q>worst)worst=q; checks++;}
      for(int i=0;i<n;i++){double q=fabs(gb[i]-eb[i])/fmax(1,fabs(eb[i])); if(q>worst)worst=q; checks++;} }
  }
  printf("build %d (2 AVX-512, 1 AVX2/FMA, 0 baseline), width %d: checks %ld, worst relative difference %.3g\n",
         gf_kernels_vectorized(), gf_kernels_width(), checks, worst);
  return worst < 1e-12 ? 0 : 1;
}
int main(void){
  int failed=0;
  for(int w=4;w<=8;w+=4) if(gf_kernels_set_width(w)) failed|=check();
  return failed;
}
